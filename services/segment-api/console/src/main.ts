import { createApp } from "vue";
import { createRouter, createWebHistory } from "vue-router";
import App from "./App.vue";
import { whenSignedOut } from "./api";
import { loadAccount, session } from "./session";
import "./style.css";
import SegmentBuilder from "./views/SegmentBuilder.vue";
import SegmentDetail from "./views/SegmentDetail.vue";
import SegmentList from "./views/SegmentList.vue";
import SignIn from "./views/SignIn.vue";

const router = createRouter({
  history: createWebHistory("/console/"),
  routes: [
    { path: "/", name: "list", component: SegmentList },
    { path: "/sign-in", name: "sign-in", component: SignIn, meta: { public: true } },
    { path: "/segments/new", name: "new", component: SegmentBuilder },
    { path: "/segments/:id", name: "detail", component: SegmentDetail, props: true },
    { path: "/segments/:id/edit", name: "edit", component: SegmentBuilder, props: true },
    { path: "/:rest(.*)", redirect: "/" },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!session.checked) await loadAccount().catch(() => null);
  if (!session.account && !session.forbidden) return { name: "sign-in", query: { next: to.fullPath } };
  return true;
});

whenSignedOut(() => {
  session.account = null;
  if (router.currentRoute.value.name !== "sign-in") {
    void router.push({ name: "sign-in", query: { next: router.currentRoute.value.fullPath } });
  }
});

createApp(App).use(router).mount("#app");

"""Every object type of both source documents, as data.

Parent relations come from fields that reference another object; child relations
are their inverse. Generic metrics (count, sum/avg/min/max, distinct count,
recency) are derived for every relation; the RFC's named metrics and RFM are
declared on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contracts.catalog.model import (
    Aggregate,
    Band,
    Channel,
    Distribution,
    EventKind,
    EventSource,
    FieldCategory,
    FieldDef,
    FieldType,
    MetricDef,
    MetricFilter,
    MetricGroup,
    ObjectType,
    Relation,
)
from contracts.rules import Operator

T = FieldType
C = FieldCategory


def f(
    name: str,
    type_: FieldType,
    *options: str,
    label: str | None = None,
    category: FieldCategory = C.DEFAULT,
    integer: bool = False,
    references: str | None = None,
) -> FieldDef:
    return FieldDef(
        name=name,
        column=name,
        type=type_,
        label=label or name.replace("_", " ").capitalize(),
        category=category,
        options=options,
        warehouse_type="INT64" if integer else None,
        references=references,
    )


def ref(name: str, target: str) -> FieldDef:
    return f(name, T.SINGLE_LINE_TEXT, references=target)


@dataclass
class _Spec:
    name: str
    label: str
    family: str
    table: str
    id_column: str
    fields: tuple[FieldDef, ...]
    time_field: str | None = None
    display: tuple[str, ...] = ()
    matched: tuple[tuple[str, str], ...] = ()
    owner_field: str | None = None
    relation_names: Mapping[str, str] = field(default_factory=dict)
    events: tuple[EventSource, ...] = ()
    metrics: tuple[MetricDef, ...] = ()
    channels: tuple[Channel, ...] = ()
    distributions: tuple[Distribution, ...] = ()


# The RFC's performance tab: ages in bands, the rest by value.
AGE_BANDS = (
    Band(label="under 18", high=17),
    Band(label="18-24", low=18, high=24),
    Band(label="25-34", low=25, high=34),
    Band(label="35-44", low=35, high=44),
    Band(label="45-54", low=45, high=54),
    Band(label="55-64", low=55, high=64),
    Band(label="65+", low=65),
)

_DROPDOWN_USERS = ("ana", "budi", "chen", "dian", "system")
_EVENT_NAMES = (
    "signup",
    "demo_request",
    "download",
    "add_to_cart",
    "purchase",
    "checkout",
    "deal_won",
    "quote_accepted",
    "webinar_joined",
    "app_opened",
)

SPECS: tuple[_Spec, ...] = (
    # ---- customer family (the CRM frontend RFC) -------------------------------------
    _Spec(
        "company",
        "Company",
        "customer",
        "companies",
        "company_id",
        (
            f("name", T.SINGLE_LINE_TEXT),
            f("industry", T.DROPDOWN_SELECT, "retail", "finance", "health", "education", "tech"),
            f("employee_count", T.NUMBER, integer=True),
            f("country", T.SINGLE_LINE_TEXT),
            f("created_on", T.DATE, category=C.EVENT),
        ),
        display=("name", "industry"),
    ),
    _Spec(
        "customer",
        "Customer",
        "customer",
        "customers",
        "customer_id",
        (
            f("full_name", T.SINGLE_LINE_TEXT),
            f("email", T.SINGLE_LINE_TEXT),
            f("phone", T.SINGLE_LINE_TEXT, label="WhatsApp phone"),
            f("city", T.SINGLE_LINE_TEXT, label="Domicile"),
            f(
                "source",
                T.DROPDOWN_SELECT,
                "website",
                "whatsapp",
                "import",
                "referral",
                "event",
                "instagram",
            ),
            f("gender", T.DROPDOWN_SELECT, "female", "male", "other"),
            f("age", T.NUMBER, integer=True),
            f("job_title", T.SINGLE_LINE_TEXT),
            f("lifecycle_stage", T.DROPDOWN_SELECT, "lead", "prospect", "customer", "churned"),
            f("tags", T.MULTIPLE_SELECT, "newsletter", "b2b", "b2c", "wholesale", "event", "vip"),
            f("website", T.URL),
            f("notes", T.TEXT_AREA),
            f("avatar", T.UPLOAD),
            f("signature", T.SIGNATURE),
            f("location", T.GPS),
            f("lifetime_value", T.NUMBER),
            ref("company_id", "company"),
            f("created_on", T.DATE, category=C.EVENT, label="Created at"),
            f("updated_on", T.DATE, category=C.EVENT, label="Updated at"),
            f("created_by", T.DROPDOWN_SELECT, *_DROPDOWN_USERS, category=C.EVENT),
            f("updated_by", T.DROPDOWN_SELECT, *_DROPDOWN_USERS, category=C.EVENT),
            f("email_opt_in", T.BOOLEAN, category=C.CONSENT, label="Email consent"),
            f("whatsapp_opt_in", T.BOOLEAN, category=C.CONSENT, label="WhatsApp consent"),
            f("consent_updated_on", T.DATE, category=C.CONSENT),
            f("consent_source", T.SINGLE_LINE_TEXT, category=C.CONSENT),
            f(
                "loyalty_tier",
                T.DROPDOWN_SELECT,
                "bronze",
                "silver",
                "gold",
                "platinum",
                category=C.LOYALTY,
            ),
            f("loyalty_points", T.NUMBER, category=C.LOYALTY, integer=True),
            f("member_since", T.DATE, category=C.LOYALTY),
            f("is_vip", T.BOOLEAN, category=C.LOYALTY, label="VIP"),
        ),
        display=("full_name", "email", "phone", "city"),
        # The RFC's matched-customer table: name, source, last activity, added by.
        matched=(
            ("name", "full_name"),
            ("source", "source"),
            ("last_activity", "updated_on"),
            ("added_by", "created_by"),
        ),
        owner_field="created_by",
        channels=(
            Channel(
                name="whatsapp",
                label="WhatsApp",
                address_field="phone",
                consent_field="whatsapp_opt_in",
            ),
            Channel(
                name="email", label="Email", address_field="email", consent_field="email_opt_in"
            ),
        ),
        distributions=(
            Distribution(name="source", field="source"),
            Distribution(name="domicile", field="city"),
            Distribution(name="age_band", field="age", bands=AGE_BANDS),
            Distribution(name="gender", field="gender"),
        ),
        relation_names={
            "campaign_recipients": "campaigns",
            "customer_events": "events",
            "company_id": "company",
        },
        events=tuple(
            EventSource(
                name=k.value,
                label=k.value.replace("_", " ").capitalize(),
                kind=k,
                relation="events",
                name_field="event_name",
                kind_filter=k.value,
            )
            for k in EventKind
        ),
        metrics=(
            MetricDef(
                name="conversations_total",
                label="Conversations",
                group=MetricGroup.COMMUNICATION,
                relation="conversations",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="messages_total",
                label="Messages exchanged",
                group=MetricGroup.COMMUNICATION,
                relation="conversations",
                aggregate=Aggregate.SUM,
                field="message_count",
            ),
            MetricDef(
                name="tickets_total",
                label="Tickets",
                group=MetricGroup.SERVICE,
                relation="tickets",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="open_tickets",
                label="Open tickets",
                group=MetricGroup.SERVICE,
                relation="tickets",
                aggregate=Aggregate.COUNT,
                filters=(
                    MetricFilter(field="status", operator=Operator.NOT_EQUALS, value="closed"),
                ),
            ),
            MetricDef(
                name="deals_total",
                label="Deals",
                group=MetricGroup.SALES,
                relation="deals",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="won_deal_amount",
                label="Won deal amount",
                group=MetricGroup.SALES,
                relation="deals",
                aggregate=Aggregate.SUM,
                field="amount",
                filters=(MetricFilter(field="won", operator=Operator.IS_TRUE),),
            ),
            MetricDef(
                name="campaigns_received",
                label="Campaigns received",
                group=MetricGroup.MARKETING,
                relation="campaigns",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="campaigns_opened",
                label="Campaigns opened",
                group=MetricGroup.MARKETING,
                relation="campaigns",
                aggregate=Aggregate.COUNT,
                filters=(MetricFilter(field="opened", operator=Operator.IS_TRUE),),
            ),
            MetricDef(
                name="orders_total",
                label="Orders",
                group=MetricGroup.COMMERCE,
                relation="orders",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="total_spent",
                label="Total spent",
                group=MetricGroup.COMMERCE,
                relation="orders",
                aggregate=Aggregate.SUM,
                field="amount",
            ),
            MetricDef(
                name="average_order_value",
                label="Average order value",
                group=MetricGroup.COMMERCE,
                relation="orders",
                aggregate=Aggregate.AVG,
                field="amount",
            ),
            MetricDef(
                name="points_earned",
                label="Loyalty points earned",
                group=MetricGroup.LOYALTY,
                relation="orders",
                aggregate=Aggregate.SUM,
                field="points",
            ),
            MetricDef(
                name="recency_days",
                label="Days since last order",
                group=MetricGroup.RFM,
                relation="orders",
                aggregate=Aggregate.DAYS_SINCE_LAST,
                field="order_date",
            ),
            MetricDef(
                name="frequency",
                label="Orders (frequency)",
                group=MetricGroup.RFM,
                relation="orders",
                aggregate=Aggregate.COUNT,
            ),
            MetricDef(
                name="monetary",
                label="Order value (monetary)",
                group=MetricGroup.RFM,
                relation="orders",
                aggregate=Aggregate.SUM,
                field="amount",
            ),
        ),
    ),
    _Spec(
        "conversation",
        "Conversation",
        "customer",
        "conversations",
        "conversation_id",
        (
            ref("customer_id", "customer"),
            f("channel", T.DROPDOWN_SELECT, "whatsapp", "email", "livechat", "instagram"),
            f("status", T.DROPDOWN_SELECT, "open", "pending", "resolved"),
            f("started_on", T.DATE),
            f("message_count", T.NUMBER, integer=True),
            f("resolved", T.BOOLEAN),
        ),
        time_field="started_on",
    ),
    _Spec(
        "campaign_recipient",
        "Campaign recipient",
        "customer",
        "campaign_recipients",
        "recipient_id",
        (
            ref("customer_id", "customer"),
            f("campaign_name", T.DROPDOWN_SELECT, "spring_sale", "welcome", "winback", "launch"),
            f("channel", T.DROPDOWN_SELECT, "whatsapp", "email"),
            f("sent_on", T.DATE),
            f("opened", T.BOOLEAN),
            f("clicked", T.BOOLEAN),
        ),
        time_field="sent_on",
    ),
    _Spec(
        "deal",
        "Deal",
        "customer",
        "deals",
        "deal_id",
        (
            ref("customer_id", "customer"),
            f(
                "stage",
                T.DROPDOWN_SELECT,
                "qualification",
                "proposal",
                "negotiation",
                "won",
                "lost",
            ),
            f("amount", T.NUMBER),
            f("created_on", T.DATE),
            f("closed_on", T.DATE),
            f("won", T.BOOLEAN),
        ),
        time_field="created_on",
    ),
    _Spec(
        "ticket",
        "Ticket",
        "customer",
        "tickets",
        "ticket_id",
        (
            ref("customer_id", "customer"),
            f("priority", T.DROPDOWN_SELECT, "low", "medium", "high", "urgent"),
            f("status", T.DROPDOWN_SELECT, "open", "pending", "closed"),
            f("created_on", T.DATE),
            f("resolved_on", T.DATE),
        ),
        time_field="created_on",
    ),
    _Spec(
        "order",
        "Order",
        "customer",
        "orders",
        "order_id",
        (
            ref("customer_id", "customer"),
            f("order_date", T.DATE),
            f("amount", T.NUMBER),
            f("items", T.NUMBER, integer=True),
            f("status", T.DROPDOWN_SELECT, "paid", "pending", "refunded"),
            f("points", T.NUMBER, integer=True),
            f("channel", T.DROPDOWN_SELECT, "online", "store"),
        ),
        time_field="order_date",
    ),
    _Spec(
        "customer_event",
        "Customer event",
        "customer",
        "customer_events",
        "event_id",
        (
            ref("customer_id", "customer"),
            f("kind", T.DROPDOWN_SELECT, *(k.value for k in EventKind)),
            f("event_name", T.DROPDOWN_SELECT, *_EVENT_NAMES),
            f("event_date", T.DATE),
            f("value", T.NUMBER),
            f("page_url", T.URL),
            f("product", T.SINGLE_LINE_TEXT),
        ),
        time_field="event_date",
    ),
    # ---- analytics family (the first document) ----------------------------------------
    _Spec(
        "revealed_company",
        "Company (revealed)",
        "analytics",
        "revealed_companies",
        "company_id",
        (
            f("domain", T.URL),
            f("name", T.SINGLE_LINE_TEXT),
            f("industry", T.DROPDOWN_SELECT, "retail", "finance", "health", "education", "tech"),
            f("employee_count", T.NUMBER, integer=True),
            f("revenue", T.NUMBER),
            f("country", T.SINGLE_LINE_TEXT),
            f("source", T.DROPDOWN_SELECT, "revealed", "imported"),
            f("first_seen", T.DATE),
        ),
        display=("name", "domain"),
    ),
    _Spec(
        "people",
        "People",
        "analytics",
        "people",
        "people_id",
        (
            f("email", T.SINGLE_LINE_TEXT),
            f("full_name", T.SINGLE_LINE_TEXT),
            f("job_title", T.SINGLE_LINE_TEXT),
            f(
                "lifecycle_stage",
                T.DROPDOWN_SELECT,
                "subscriber",
                "lead",
                "opportunity",
                "customer",
            ),
            ref("company_id", "revealed_company"),
            f("created_on", T.DATE),
            f("lead_score", T.NUMBER, integer=True),
        ),
        display=("full_name", "email"),
        relation_names={"company_id": "company"},
    ),
    _Spec(
        "user",
        "User",
        "analytics",
        "users",
        "user_id",
        (
            ref("people_id", "people"),
            f("first_seen", T.DATE),
            f("device", T.DROPDOWN_SELECT, "desktop", "mobile", "tablet"),
            f("browser", T.DROPDOWN_SELECT, "chrome", "safari", "firefox", "edge"),
            f("country", T.SINGLE_LINE_TEXT),
        ),
        relation_names={"people_id": "person"},
    ),
    _Spec(
        "session",
        "Session",
        "analytics",
        "sessions",
        "session_id",
        (
            ref("user_id", "user"),
            f("session_date", T.DATE),
            f(
                "channel",
                T.DROPDOWN_SELECT,
                "organic",
                "paid",
                "direct",
                "referral",
                "email",
                "social",
            ),
            f("landing_page", T.URL),
            f("device", T.DROPDOWN_SELECT, "desktop", "mobile", "tablet"),
            f("country", T.SINGLE_LINE_TEXT),
            f("duration_s", T.NUMBER, integer=True),
            f("pageviews", T.NUMBER, integer=True),
            f("is_engaged", T.BOOLEAN),
        ),
        time_field="session_date",
        relation_names={"user_id": "user"},
    ),
    _Spec(
        "event",
        "Event",
        "analytics",
        "events",
        "event_id",
        (
            ref("session_id", "session"),
            ref("user_id", "user"),
            f(
                "event_name",
                T.DROPDOWN_SELECT,
                "page_view",
                "click",
                "form_submit",
                "scroll",
                "video_play",
                "file_download",
            ),
            f("event_date", T.DATE),
            f("page_url", T.URL),
            f("value", T.NUMBER),
        ),
        time_field="event_date",
        relation_names={"session_id": "session", "user_id": "user"},
    ),
    _Spec(
        "web_conversion",
        "Web conversion",
        "analytics",
        "web_conversions",
        "conversion_id",
        (
            ref("session_id", "session"),
            ref("user_id", "user"),
            ref("people_id", "people"),
            f(
                "conversion_name",
                T.DROPDOWN_SELECT,
                "signup",
                "demo_request",
                "contact_form",
                "newsletter",
                "purchase",
            ),
            f("conversion_date", T.DATE),
            f("value", T.NUMBER),
        ),
        time_field="conversion_date",
        relation_names={"session_id": "session", "user_id": "user", "people_id": "person"},
    ),
    _Spec(
        "ecommerce_event",
        "Ecommerce event",
        "analytics",
        "ecommerce_events",
        "event_id",
        (
            ref("session_id", "session"),
            ref("user_id", "user"),
            f(
                "action",
                T.DROPDOWN_SELECT,
                "view_item",
                "add_to_cart",
                "begin_checkout",
                "purchase",
            ),
            f("product", T.SINGLE_LINE_TEXT),
            f("revenue", T.NUMBER),
            f("quantity", T.NUMBER, integer=True),
            f("event_date", T.DATE),
        ),
        time_field="event_date",
        relation_names={"session_id": "session", "user_id": "user"},
    ),
    _Spec(
        "sales_conversion",
        "Sales conversion",
        "analytics",
        "sales_conversions",
        "conversion_id",
        (
            ref("people_id", "people"),
            ref("company_id", "revealed_company"),
            f("name", T.DROPDOWN_SELECT, "opportunity_won", "deal_closed", "contract_signed"),
            f("amount", T.NUMBER),
            f("conversion_date", T.DATE),
        ),
        time_field="conversion_date",
        relation_names={"people_id": "person", "company_id": "company"},
    ),
    # ---- CRM family (Salesforce objects of the first document) --------------------------
    _Spec(
        "crm_parent_account",
        "Parent account",
        "crm",
        "crm_parent_accounts",
        "parent_account_id",
        (
            f("name", T.SINGLE_LINE_TEXT),
            f("industry", T.DROPDOWN_SELECT, "retail", "finance", "health", "education", "tech"),
            f("annual_revenue", T.NUMBER),
            f("created_on", T.DATE),
        ),
        display=("name",),
    ),
    _Spec(
        "crm_account",
        "Account",
        "crm",
        "crm_accounts",
        "account_id",
        (
            ref("parent_account_id", "crm_parent_account"),
            f("name", T.SINGLE_LINE_TEXT),
            f("industry", T.DROPDOWN_SELECT, "retail", "finance", "health", "education", "tech"),
            f("type", T.DROPDOWN_SELECT, "prospect", "customer", "partner"),
            f("annual_revenue", T.NUMBER),
            f("employees", T.NUMBER, integer=True),
            f("created_on", T.DATE),
        ),
        display=("name",),
        relation_names={"parent_account_id": "parent_account"},
    ),
    _Spec(
        "crm_contact",
        "Contact",
        "crm",
        "crm_contacts",
        "contact_id",
        (
            ref("account_id", "crm_account"),
            f("full_name", T.SINGLE_LINE_TEXT),
            f("email", T.SINGLE_LINE_TEXT),
            f("title", T.SINGLE_LINE_TEXT),
            f("lead_source", T.DROPDOWN_SELECT, "web", "partner", "event", "cold_call"),
            f("created_on", T.DATE),
        ),
        display=("full_name", "email"),
        relation_names={"account_id": "account"},
    ),
    _Spec(
        "crm_lead",
        "Lead",
        "crm",
        "crm_leads",
        "lead_id",
        (
            f("full_name", T.SINGLE_LINE_TEXT),
            f("email", T.SINGLE_LINE_TEXT),
            f("company", T.SINGLE_LINE_TEXT),
            f("status", T.DROPDOWN_SELECT, "open", "working", "qualified", "unqualified"),
            f("lead_source", T.DROPDOWN_SELECT, "web", "partner", "event", "cold_call"),
            f("rating", T.DROPDOWN_SELECT, "hot", "warm", "cold"),
            f("converted", T.BOOLEAN),
            f("created_on", T.DATE),
        ),
        display=("full_name", "email"),
    ),
    _Spec(
        "crm_opportunity",
        "Opportunity",
        "crm",
        "crm_opportunities",
        "opportunity_id",
        (
            ref("account_id", "crm_account"),
            f("name", T.SINGLE_LINE_TEXT),
            f(
                "stage",
                T.DROPDOWN_SELECT,
                "prospecting",
                "proposal",
                "negotiation",
                "closed_won",
                "closed_lost",
            ),
            f("amount", T.NUMBER),
            f("probability", T.NUMBER, integer=True),
            f("is_won", T.BOOLEAN),
            f("close_date", T.DATE),
        ),
        time_field="close_date",
        display=("name",),
        relation_names={"account_id": "account"},
    ),
    _Spec(
        "crm_quote",
        "Quote",
        "crm",
        "crm_quotes",
        "quote_id",
        (
            ref("opportunity_id", "crm_opportunity"),
            f("status", T.DROPDOWN_SELECT, "draft", "presented", "accepted", "rejected"),
            f("total", T.NUMBER),
            f("expiration_date", T.DATE),
        ),
        relation_names={"opportunity_id": "opportunity"},
    ),
    _Spec(
        "crm_order",
        "Order (CRM)",
        "crm",
        "crm_orders",
        "order_id",
        (
            ref("account_id", "crm_account"),
            f("status", T.DROPDOWN_SELECT, "draft", "activated"),
            f("total_amount", T.NUMBER),
            f("effective_date", T.DATE),
        ),
        time_field="effective_date",
        relation_names={"account_id": "account"},
    ),
    _Spec(
        "crm_contract",
        "Contract",
        "crm",
        "crm_contracts",
        "contract_id",
        (
            ref("account_id", "crm_account"),
            f("status", T.DROPDOWN_SELECT, "draft", "activated", "expired"),
            f("term_months", T.NUMBER, integer=True),
            f("start_date", T.DATE),
            f("end_date", T.DATE),
        ),
        relation_names={"account_id": "account"},
    ),
    _Spec(
        "crm_campaign",
        "Campaign (CRM)",
        "crm",
        "crm_campaigns",
        "campaign_id",
        (
            f("name", T.SINGLE_LINE_TEXT),
            f("type", T.DROPDOWN_SELECT, "email", "webinar", "conference", "advertisement"),
            f("status", T.DROPDOWN_SELECT, "planned", "in_progress", "completed"),
            f("budget", T.NUMBER),
            f("start_date", T.DATE),
        ),
        display=("name",),
    ),
    _Spec(
        "crm_campaign_member",
        "Campaign member",
        "crm",
        "crm_campaign_members",
        "member_id",
        (
            ref("campaign_id", "crm_campaign"),
            ref("contact_id", "crm_contact"),
            ref("lead_id", "crm_lead"),
            f("status", T.DROPDOWN_SELECT, "sent", "responded"),
            f("added_on", T.DATE),
        ),
        time_field="added_on",
        relation_names={"campaign_id": "campaign", "contact_id": "contact", "lead_id": "lead"},
    ),
    _Spec(
        "crm_event",
        "Event (CRM)",
        "crm",
        "crm_events",
        "event_id",
        (
            ref("contact_id", "crm_contact"),
            ref("account_id", "crm_account"),
            f("subject", T.DROPDOWN_SELECT, "call", "meeting", "demo", "follow_up"),
            f("activity_date", T.DATE),
            f("duration_minutes", T.NUMBER, integer=True),
        ),
        time_field="activity_date",
        relation_names={"contact_id": "contact", "account_id": "account"},
    ),
)

# Analytics objects reach their events through these sources (the first document's
# web conversion, ecommerce, sales conversion and other-event focuses).
_ANALYTICS_EVENTS: dict[str, tuple[tuple[EventKind, str, str], ...]] = {
    "session": (
        (EventKind.WEB_CONVERSION, "web_conversions", "conversion_name"),
        (EventKind.ECOMMERCE, "ecommerce_events", "action"),
        (EventKind.CUSTOM, "events", "event_name"),
    ),
    "user": (
        (EventKind.WEB_CONVERSION, "web_conversions", "conversion_name"),
        (EventKind.ECOMMERCE, "ecommerce_events", "action"),
        (EventKind.CUSTOM, "events", "event_name"),
    ),
    "people": (
        (EventKind.WEB_CONVERSION, "web_conversions", "conversion_name"),
        (EventKind.SALES_CONVERSION, "sales_conversions", "name"),
    ),
    "revealed_company": ((EventKind.SALES_CONVERSION, "sales_conversions", "name"),),
}


def _relations(spec: _Spec, by_name: Mapping[str, _Spec]) -> tuple[Relation, ...]:
    out: list[Relation] = []
    for fd in spec.fields:  # parents: this object holds the target's id
        if fd.references:
            target = by_name[fd.references]
            name = spec.relation_names.get(fd.name, fd.name.removesuffix("_id"))
            out.append(
                Relation(
                    name=name,
                    label=target.label,
                    target=target.name,
                    object_column=fd.column,
                    target_column=target.id_column,
                )
            )
    for other in by_name.values():  # children: the target holds this object's id
        for fd in other.fields:
            if fd.references == spec.name:
                name = spec.relation_names.get(other.table, other.table)
                if len([x for x in other.fields if x.references == spec.name]) > 1:
                    name = f"{name}_by_{fd.name.removesuffix('_id')}"
                out.append(
                    Relation(
                        name=name,
                        label=other.label,
                        target=other.name,
                        object_column=spec.id_column,
                        target_column=fd.column,
                    )
                )
    return tuple(out)


def _generic_metrics(
    relations: Iterable[Relation], by_name: Mapping[str, _Spec]
) -> tuple[MetricDef, ...]:
    out: list[MetricDef] = []
    for rel in relations:
        target = by_name[rel.target]
        out.append(
            MetricDef(
                name=f"{rel.name}_count",
                label=f"{rel.label}: count",
                group=MetricGroup.ACTIVITY,
                relation=rel.name,
                aggregate=Aggregate.COUNT,
            )
        )
        for fd in target.fields:
            if fd.type is FieldType.NUMBER:
                for agg in (Aggregate.SUM, Aggregate.AVG, Aggregate.MIN, Aggregate.MAX):
                    out.append(
                        MetricDef(
                            name=f"{rel.name}_{fd.name}_{agg.value}",
                            label=f"{rel.label}: {agg.value} of {fd.label}",
                            group=MetricGroup.ACTIVITY,
                            relation=rel.name,
                            aggregate=agg,
                            field=fd.name,
                        )
                    )
            elif fd.type is FieldType.DROPDOWN_SELECT:
                out.append(
                    MetricDef(
                        name=f"{rel.name}_{fd.name}_distinct_count",
                        label=f"{rel.label}: distinct {fd.label}",
                        group=MetricGroup.ACTIVITY,
                        relation=rel.name,
                        aggregate=Aggregate.DISTINCT_COUNT,
                        field=fd.name,
                    )
                )
        if target.time_field:
            out.append(
                MetricDef(
                    name=f"{rel.name}_days_since_last",
                    label=f"{rel.label}: days since last",
                    group=MetricGroup.ACTIVITY,
                    relation=rel.name,
                    aggregate=Aggregate.DAYS_SINCE_LAST,
                    field=target.time_field,
                )
            )
    return tuple(out)


def _analytics_events(name: str) -> tuple[EventSource, ...]:
    return tuple(
        EventSource(
            name=kind.value,
            label=kind.value.replace("_", " ").capitalize(),
            kind=kind,
            relation=relation,
            name_field=name_field,
        )
        for kind, relation, name_field in _ANALYTICS_EVENTS.get(name, ())
    )


def _build(specs: tuple[_Spec, ...]) -> dict[str, ObjectType]:
    by_name = {s.name: s for s in specs}
    out: dict[str, ObjectType] = {}
    for spec in specs:
        relations = _relations(spec, by_name)
        out[spec.name] = ObjectType(
            name=spec.name,
            label=spec.label,
            family=spec.family,
            table=spec.table,
            id_column=spec.id_column,
            fields=spec.fields,
            relations=relations,
            metrics=spec.metrics + _generic_metrics(relations, by_name),
            events=spec.events or _analytics_events(spec.name),
            channels=spec.channels,
            time_field=spec.time_field,
            display_columns=spec.display,
            matched_columns=spec.matched,
            owner_field=spec.owner_field,
            distributions=spec.distributions,
        )
    return out


OBJECT_TYPES: dict[str, ObjectType] = _build(SPECS)
CUSTOMER = OBJECT_TYPES["customer"]


@dataclass(frozen=True)
class Catalog:
    """One account's view: the base object types plus its custom fields."""

    objects: Mapping[str, ObjectType]

    def get(self, name: str) -> ObjectType | None:
        return self.objects.get(name)

    def with_custom_fields(self, custom: Mapping[str, tuple[FieldDef, ...]]) -> Catalog:
        return Catalog(
            {name: obj.with_fields(custom.get(name, ())) for name, obj in self.objects.items()}
        )


def base_catalog() -> Catalog:
    return Catalog(OBJECT_TYPES)

"""Dead letters you can act on: a message one group refused (a job for an account the
database does not know) is dead-lettered with who refused it and its CloudEvents headers;
after the repair (the account exists), `segctl replay`'s code sends it back, the group
that refused it takes it exactly once (the second replay reaches it and is seen as a
repeat), and the groups that took it first skip it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from contracts.messages import BuildMode, JobSubmitted, JobSubmittedData
from contracts.topics import JOB_SUBMITTED
from devstack import replay as dead
from devstack import seeding
from e2e import wait_for
from segment_runtime.kafka import message_headers

pytestmark = pytest.mark.stack


async def test_a_refused_message_is_replayed_after_the_repair_and_taken_once(stack):
    started = datetime.now(UTC) - timedelta(seconds=1)
    account, segment = uuid4(), uuid4()
    job_id = f"replay_{uuid4().hex[:12]}"
    message = JobSubmitted(
        source="test",
        accountid=account,
        correlationid=uuid4(),
        data=JobSubmittedData(
            build_id=uuid4(),
            segment_id=segment,
            job_id=job_id,
            mode=BuildMode.BUILD,
            rules_version=1,
            table=f"{stack.cfg.bigquery_project}.acct_{account.hex}.segment_{segment.hex}",
        ),
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.cfg.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            JOB_SUBMITTED,
            message.model_dump_json().encode(),
            key=str(segment).encode(),
            headers=[
                (k, v.encode()) for k, v in message_headers(message.type, str(message.id)).items()
            ],
        )
    finally:
        await producer.stop()

    async def refused() -> list[dead.DeadLetter]:
        letters = dead.choose(
            await dead.read_dead_letters(stack.cfg.kafka_bootstrap),
            topic=JOB_SUBMITTED,
            consumer="job-monitor",
            since=started,
        )
        return [d for d in letters if d.headers.get("ce_id") == str(message.id)]

    (letter,) = await wait_for(refused, timeout_s=60)
    assert "ForeignKeyViolation" in letter.headers["dl_error"]
    assert letter.headers["ce_type"] == "job.submitted"  # the original headers travel along

    async def jobs() -> int:
        conn = await asyncpg.connect(stack.cfg.database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE id = $1", job_id))
        finally:
            await conn.close()

    assert await jobs() == 0
    await seeding.ensure_account(stack.cfg.database_url, account, "repaired", "UTC")  # the repair
    for _ in range(2):  # replayed twice by mistake: still taken once
        assert await dead.replay(stack.cfg.kafka_bootstrap, [letter]) == 1
    await wait_for(jobs, timeout_s=60)

    def repeats() -> list[str]:
        """The job monitor's word that it skipped this message as already taken."""
        log = (stack.logs / "job-monitor.log").read_text(errors="replace")
        return [
            line
            for line in log.splitlines()
            if '"message_repeated"' in line and str(message.id) in line
        ]

    # The jobs table holds one row per job id whatever happens: what shows the second
    # replay changed nothing is the consumer saying it skipped it, once.
    await wait_for(repeats, timeout_s=60)
    await asyncio.sleep(2)  # a third delivery, if there were one, would land by now
    assert len(repeats()) == 1
    assert await jobs() == 1


def test_new_ids_renew_the_message_and_its_ce_id_and_keep_the_rest():
    import json

    body = json.dumps({"id": str(uuid4()), "type": "job.submitted", "data": {}}).encode()
    letter = dead.DeadLetter(
        partition=1,
        offset=7,
        timestamp_ms=0,
        key=b"k",
        body=body,
        headers={"ce_id": json.loads(body)["id"], "ce_type": "job.submitted", "dl_topic": "t"},
    )
    same, same_headers = dead._renewed(letter, new_ids=False)
    fresh, fresh_headers = dead._renewed(letter, new_ids=True)
    assert same == body and dict(same_headers)["ce_id"] == letter.headers["ce_id"].encode()
    renewed = json.loads(fresh)
    assert renewed["id"] != json.loads(body)["id"] and renewed["type"] == "job.submitted"
    assert dict(fresh_headers)["ce_id"] == renewed["id"].encode()
    assert dict(fresh_headers)["replayed_from"] == b"dead-letter/1/7"
    assert "dl_topic" not in dict(fresh_headers)

"""A test-only actor, loaded by worker processes through ACTOR_MODULES in process tests."""

import dramatiq

from workers.consuming import consume_once


@dramatiq.actor(actor_name="test_sample_job", queue_name="lendgraph_test_sample", max_retries=3)
def sample_job(message_id: str) -> None:
    consume_once("test_sample_job", message_id, lambda _session: None)

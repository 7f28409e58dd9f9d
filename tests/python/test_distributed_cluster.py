"""A sharded collection across simulated nodes: ray.cluster_utils.Cluster runs several raylets on
this machine. Shards pinned to node-local storage (node_local=True) land on different nodes, answer
as one collection does, and a removed node makes its shard unavailable."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

import augurdb  # noqa: E402
import augurdb.distributed as dist  # noqa: E402
from augurdb import errors  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"})
    worker = c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    yield c, worker
    ray.shutdown()
    c.shutdown()


def test_shards_spread_over_nodes_and_answer_as_one(cluster: Any, tmp_path: Path) -> None:
    c, worker = cluster
    nodes = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
    assert len(nodes) == 2
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((400, 8)).astype(np.float32)
    docs = [" ".join(rng.choice([f"t{i}" for i in range(50)], size=4 + i)) for i in range(400)]
    col = dist.open(tmp_path / "kb", shards=2, dim=8, node_local=True)
    placed = [ray.get(a.__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id()))
              for a in col.actors()]
    assert sorted(placed) == nodes  # one shard per node, as the layout pins them
    col.add(np.arange(400), vectors, documents=docs)
    one = augurdb.open(dim=8)
    one.add(np.arange(400), vectors, documents=docs)
    q = vectors[3] + 0.1
    assert [h.id for h in col.search(q, 10, ef=400)] == [h.id for h in one.search(q, 10, ef=400)]
    hybrid = col.search(q, 10, text="t1 t2", ef=400)
    want = one.search(q, 10, text="t1 t2", ef=400)
    assert [h.id for h in hybrid] == [h.id for h in want]
    assert [h.text_score for h in hybrid] == pytest.approx([h.text_score for h in want])

    # The worker node goes away: its shard (pinned there, its data node-local) is unavailable.
    lost = placed.index(worker.node_id)
    c.remove_node(worker)
    with pytest.raises(errors.ShardUnavailable) as info:
        col.search(q, 5, ef=400)
    assert info.value.shards == (lost,)
    partial = col.search(q, 5, ef=400, allow_partial=True)
    assert partial.missing_shards == (lost,) and len(partial) == 5
    col.close()

"""AugurDB's recall/QPS benchmarks against its peers. Not in the wheel: run from the repository
root as ``python -m bench.ann.<runner>`` with ``augurdb`` installed (see BENCHMARKS.md).

Runners: hnsw_vs_hnswlib, suite (every peer, one worker process each; its report in
suite_report), quantized, graph_quality (the data-set matrix), filtered, delete_recall, storage,
python_overhead, minilm (builds the MiniLM data set), embeddings (OnnxEmbedding's documents/s
against fastembed). Shared pieces: common (machine header, timing, recall, QPS at recall, ground
truth cache, result files), datasets / synthetic / matrix (data), peers/ (one adapter per system
on peers.base.Adapter), plots.
"""

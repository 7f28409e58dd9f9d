// CollectionOptions resolution (collection_options.h).
#include "db/collection_options.h"

#include "text/tokenizer.h"

namespace augurdb::db {
namespace {

Status CheckRange(const char* name, size_t value, size_t lo, size_t hi) {
  if (value != 0 && (value < lo || value > hi)) {
    return Status::InvalidArgument(std::string(name) + " must be in " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ", got " + std::to_string(value));
  }
  return Status::OK();
}

Status UnknownName(std::string_view field, std::string_view name, const char* choices) {
  return Status::InvalidArgument("unknown " + std::string(field) + " '" + std::string(name) +
                                 "': use " + choices);
}

}  // namespace

Status SetNamedOption(std::string_view field, std::string_view name, CollectionOptions* options) {
  if (field == "metric") {
    std::optional<Metric> metric = ParseMetric(name);
    if (!metric) return UnknownName(field, name, "'l2', 'ip' or 'cosine'");
    options->metric = *metric;
  } else if (field == "quantization") {
    std::optional<Quantization> q = ParseQuantization(name);
    if (!q) return UnknownName(field, name, "'none', 'sq8' or 'sq4'");
    options->quantization = *q;
  } else if (field == "durability") {
    if (name == "sync") {
      options->durability = Durability::kSync;
    } else if (name == "batch") {
      options->durability = Durability::kBatch;
    } else if (name == "none") {
      options->durability = Durability::kNone;
    } else {
      return UnknownName(field, name, "'sync', 'batch' or 'none'");
    }
  } else if (field == "tokenizer") {
    AUGUR_RETURN_IF_ERROR(text::ParseTokenizerKind(name).status());
    options->tokenizer = std::string(name);
  } else {
    return Status::InvalidArgument("no named option '" + std::string(field) + "'");
  }
  return Status::OK();
}

Status ValidateOptions(const CollectionOptions& options) {
  AUGUR_RETURN_IF_ERROR(CheckRange("dim", options.dim, 1, 65536));
  AUGUR_RETURN_IF_ERROR(CheckRange("m", options.m, 2, 512));
  AUGUR_RETURN_IF_ERROR(CheckRange("ef_construction", options.ef_construction, 1, 100000));
  AUGUR_RETURN_IF_ERROR(CheckRange("ef_search", options.ef_search, 1, 100000));
  AUGUR_RETURN_IF_ERROR(CheckRange("threads", options.threads, 1, 1024));
  if (!options.tokenizer.empty()) {
    AUGUR_RETURN_IF_ERROR(text::ParseTokenizerKind(options.tokenizer).status());
  }
  if (options.durability > Durability::kNone) {
    return Status::InvalidArgument("unknown durability level");
  }
  if (options.read_only && options.path.empty()) {
    return Status::InvalidArgument(
        "read_only (Python: mode='r') needs a path: an in-memory collection is new");
  }
  if (options.vectors_on_disk && options.path.empty()) {
    return Status::InvalidArgument("vectors_on_disk needs a path: vectors are served from its checkpoints");
  }
  if (options.vectors_on_disk && options.quantization == Quantization::kNone) {
    return Status::InvalidArgument("vectors_on_disk needs quantization 'sq8' or 'sq4'");
  }
  return Status::OK();
}

void ApplyNewCollectionDefaults(CollectionOptions* options) {
  if (!options->metric) options->metric = Metric::kL2;
  if (!options->quantization) options->quantization = Quantization::kNone;
  if (options->m == 0) options->m = 16;
  if (options->ef_construction == 0) options->ef_construction = 200;
  if (options->ef_search == 0) options->ef_search = 64;
  if (options->tokenizer.empty()) options->tokenizer = "simple";
}

Status ApplyStoredParams(const StoredParams& stored, const std::string& dir,
                         CollectionOptions* options) {
  CollectionOptions& o = *options;
  if (o.metric && *o.metric != stored.metric) {
    return Status::InvalidArgument("database " + dir + " uses metric '" +
                                   std::string(MetricName(stored.metric)) + "', opened with '" +
                                   std::string(MetricName(*o.metric)) + "'");
  }
  if (o.dim != 0 && stored.dim != 0 && o.dim != stored.dim) {
    return Status::DimensionMismatch("database " + dir + " has dim " +
                                     std::to_string(stored.dim) + ", opened with dim " +
                                     std::to_string(o.dim));
  }
  if (o.m != 0 && o.m != stored.m) {
    return Status::InvalidArgument("database " + dir + " was built with m=" +
                                   std::to_string(stored.m) + "; it cannot change (got " +
                                   std::to_string(o.m) + ")");
  }
  if (o.ef_construction != 0 && o.ef_construction != stored.ef_construction) {
    return Status::InvalidArgument("database " + dir + " was built with ef_construction=" +
                                   std::to_string(stored.ef_construction) +
                                   "; it cannot change (got " +
                                   std::to_string(o.ef_construction) + ")");
  }
  if (o.quantization && *o.quantization != stored.quantization) {
    return Status::InvalidArgument("database " + dir + " uses quantization '" +
                                   std::string(QuantizationName(stored.quantization)) +
                                   "'; it cannot change (got '" +
                                   std::string(QuantizationName(*o.quantization)) + "')");
  }
  const std::string_view stored_tokenizer =
      text::TokenizerName(static_cast<text::TokenizerKind>(stored.tokenizer));
  if (!o.tokenizer.empty() && o.tokenizer != stored_tokenizer) {
    return Status::InvalidArgument("database " + dir + " uses tokenizer '" +
                                   std::string(stored_tokenizer) + "'; it cannot change (got '" +
                                   o.tokenizer + "')");
  }
  o.tokenizer = std::string(stored_tokenizer);
  o.quantization = stored.quantization;
  o.metric = stored.metric;
  o.m = stored.m;
  o.ef_construction = stored.ef_construction;
  if (o.ef_search == 0) o.ef_search = stored.ef_search;
  o.seed = stored.seed;
  return Status::OK();
}

}  // namespace augurdb::db

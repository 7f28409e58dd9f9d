// I/O fault and crash sweeps over a persistent Collection (issue 10, item 2; STYLE.md §8 "Crash"
// and "Error sweep"). A fixed workload runs through the public Collection API on a FaultEnv
// (tests/cpp/support/fault_env.h):
//
//   * error sweep: for every fault kind (EIO, ENOSPC, short write, fsync failure) and every N
//     from 1 to the number of calls that kind can hit in a clean run, the Nth such call fails;
//   * crash sweep: for every K from 0 to the number of Sync/SyncDir calls of a clean run, the
//     machine dies right after the Kth one and what was not durable is lost: unsynced bytes
//     dropped, torn in half, or zero-filled; unsynced creations, renames and removals undone.
//
// Three workloads: "basic" (create, adds, deletes, upserts, a reader, checkpoint, close, reopen,
// more writes), "recovery" (starts from a killed writer's database: records in the log, a torn
// record at its end, a stale temp file) and "auto" (automatic checkpoints every few batches).
//
// Then the database is reopened with the real Env (twice) and must hold every acknowledged write
// with its vector and metadata, no acknowledged delete may have come back, a write that failed
// must be all or nothing, and Verify() must pass. The failing call, or a later one, must report
// an error (unless the failed call is one the engine documents as best effort) and nothing may
// abort.
//
// AUGURDB_FAULT_CASE="<case name>" (as a failure report prints it, e.g. "basic eio:17" or
// "recovery crash-torn:3") replays one case verbosely. AUGURDB_FAULT_FULL=1 adds the slow
// matrix: faults that stay on (a full disk), a power loss after every injected fault, and the
// automatic-checkpoint workload under faults.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "db/collection_testing.h"
#include "storage/wal.h"
#include "support/fault_env.h"
#include "support/file_helpers.h"

namespace augurdb {
namespace {

using testing::FaultEnv;
using testing::FaultKind;
using testing::IoOp;

constexpr size_t kDim = 8;

// One record as the workload wrote it; the vector encodes (id, version) so that every write of
// every id is distinguishable from every other. Three ids in four carry a document naming the
// id (its token "r<id>" is in no other document) and the version.
struct Row {
  std::vector<float> vector;
  Metadata metadata;
  std::optional<std::string> document;
  bool operator==(const Row&) const = default;
};
using RowState = std::optional<Row>;  // nullopt: absent

Row MakeRow(int64_t id, int version) {
  Row row;
  row.vector.resize(kDim);
  for (size_t j = 0; j < kDim; ++j) {
    row.vector[j] = static_cast<float>(id) + 0.125f * static_cast<float>(version) +
                    0.001f * static_cast<float>(j);
  }
  row.metadata = {{"group", Value(static_cast<int64_t>(id % 3))},
                  {"version", Value(static_cast<int64_t>(version))},
                  {"tag", Value("r" + std::to_string(id))}};
  if (id % 4 != 0) {
    row.document = "record r" + std::to_string(id) + " version " + std::to_string(version);
  }
  return row;
}

std::string Describe(const RowState& state) {
  if (!state) return "absent";
  std::ostringstream out;
  out << "vector[0]=" << state->vector[0] << " version=";
  auto v = state->metadata.find("version");
  out << (v != state->metadata.end() && v->second.is_int() ? v->second.as_int() : -1);
  return out.str();
}

// What the database may hold after a crash: per id, every state it may be in. An acknowledged
// write narrows an id to one state; a failed one adds its state to the possibilities (it may or
// may not have reached the log). A failed batch must also be all or nothing.
class Model {
 public:
  void Write(const std::vector<int64_t>& ids, const std::vector<RowState>& states, bool acked) {
    ++writes_;
    std::vector<bool> telling(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      std::vector<RowState>& possible = possible_[ids[i]];
      if (possible.empty()) possible.push_back(std::nullopt);  // never written: absent
      // A row tells whether its batch was applied only if no earlier state looks the same
      // (deleting an id that may be absent anyway tells nothing).
      telling[i] = std::find(possible.begin(), possible.end(), states[i]) == possible.end();
      if (acked) possible.clear();
      if (std::find(possible.begin(), possible.end(), states[i]) == possible.end()) {
        possible.push_back(states[i]);
      }
      last_write_[ids[i]] = writes_;
    }
    if (!acked) failed_batches_.push_back({writes_, ids, states, telling});
  }

  // Checks `col` (reopened) against the model; returns "" or what is wrong.
  std::string Check(const Collection& col) const {
    std::ostringstream errors;
    size_t present = 0;
    std::map<int64_t, RowState> actual;
    for (const auto& [id, possible] : possible_) {
      const std::vector<int64_t> one = {id};
      Result<std::vector<std::optional<Record>>> got = col.Get(IdsView::Ints(one));
      if (!got.ok()) {
        errors << "Get(" << id << "): " << got.status().ToString() << "\n";
        continue;
      }
      RowState state;
      if ((*got)[0]) {
        ++present;
        state = Row{(*got)[0]->vector, (*got)[0]->metadata, (*got)[0]->document};
        // The text index must agree with the stored document after recovery.
        if (state->document) {
          SearchOptions search;
          search.k = 1;
          Result<std::vector<Hit>> hits = col.SearchText("r" + std::to_string(id), search);
          if (!hits.ok() || hits->size() != 1 || std::get<int64_t>((*hits)[0].id) != id) {
            errors << "id " << id << " is not found by a text search for its document\n";
          }
        }
      }
      actual[id] = state;
      if (std::find(possible.begin(), possible.end(), state) == possible.end()) {
        errors << "id " << id << " is " << Describe(state) << "; allowed:";
        for (const RowState& p : possible) errors << " [" << Describe(p) << "]";
        errors << "\n";
      }
    }
    if (col.size() != present) {
      errors << "size() is " << col.size() << " but " << present << " known ids are present\n";
    }
    // Atomicity: a failed batch was one WAL record, so it is replayed whole or not at all. Only
    // the rows of ids that no later call touched can tell.
    for (const FailedBatch& batch : failed_batches_) {
      size_t applied = 0, unapplied = 0;
      for (size_t i = 0; i < batch.ids.size(); ++i) {
        if (!batch.telling[i] || last_write_.at(batch.ids[i]) != batch.index) continue;
        (actual.at(batch.ids[i]) == batch.states[i] ? applied : unapplied)++;
      }
      if (applied > 0 && unapplied > 0) {
        errors << "a failed batch starting at id " << batch.ids[0] << " was half applied ("
               << applied << " rows in, " << unapplied << " out)\n";
      }
    }
    return errors.str();
  }

 private:
  struct FailedBatch {
    size_t index;  // which write (1-based)
    std::vector<int64_t> ids;
    std::vector<RowState> states;
    std::vector<bool> telling;
  };
  size_t writes_ = 0;
  std::map<int64_t, std::vector<RowState>> possible_;
  std::map<int64_t, size_t> last_write_;  // id -> index of the last write naming it
  std::vector<FailedBatch> failed_batches_;
};

struct WorkloadOptions {
  uint64_t checkpoint_wal_bytes = uint64_t{64} << 20;  // small: automatic checkpoints too
  bool auto_checkpoints = false;  // checkpoint_wal_bytes is small enough to trigger them
  // Start from a database left by a killed writer (records in the log, a torn record at its
  // end, a stale temp file), so that the sweep covers recovery: replay, truncation, cleanup.
  bool recovery = false;
};

struct WorkloadResult {
  size_t errors = 0;   // calls that returned an error
  std::string first_error;
};

CollectionOptions WorkloadCollectionOptions(const std::string& dir, const WorkloadOptions& wo) {
  CollectionOptions options;
  options.path = dir;
  options.dim = kDim;
  options.m = 8;
  options.ef_construction = 32;
  options.threads = 1;
  options.durability = Durability::kSync;
  options.checkpoint_wal_bytes = wo.checkpoint_wal_bytes;
  return options;
}

// Issues writes and records each outcome in the model and the result.
class Ops {
 public:
  Ops(Model* model, WorkloadResult* result, bool verbose)
      : model_(model), result_(result), verbose_(verbose) {}

  bool Note(const Status& s, const char* what) {
    if (verbose_) std::fprintf(stderr, "  %-28s %s\n", what, s.ToString().c_str());
    if (!s.ok() && result_->errors++ == 0) {
      result_->first_error = std::string(what) + ": " + s.ToString();
    }
    return s.ok();
  }
  void Put(Collection& col, bool upsert, const std::vector<int64_t>& ids, int version) {
    std::vector<float> flat;
    std::vector<Metadata> metadata;
    std::vector<std::optional<std::string>> documents;
    std::vector<RowState> states;
    for (int64_t id : ids) {
      Row row = MakeRow(id, version);
      flat.insert(flat.end(), row.vector.begin(), row.vector.end());
      metadata.push_back(row.metadata);
      documents.push_back(row.document);
      states.push_back(std::move(row));
    }
    const MatrixView matrix{flat.data(), ids.size(), kDim, 0};
    const Status s = upsert ? col.Upsert(IdsView::Ints(ids), matrix, metadata, documents)
                            : col.Add(IdsView::Ints(ids), matrix, metadata, documents);
    model_->Write(ids, states, Note(s, upsert ? "upsert" : "add"));
  }
  void Delete(Collection& col, const std::vector<int64_t>& ids) {
    Result<size_t> r = col.Delete(IdsView::Ints(ids));
    model_->Write(ids, std::vector<RowState>(ids.size()), Note(r.status(), "delete"));
  }
  static std::vector<int64_t> Range(int64_t from, int64_t to) {
    std::vector<int64_t> ids;
    for (int64_t id = from; id < to; ++id) ids.push_back(id);
    return ids;
  }

 private:
  Model* model_;
  WorkloadResult* result_;
  bool verbose_;
};

// The start of the recovery workload, built without faults: what a writer killed mid-append
// leaves (a process crash: everything it wrote is kept, nothing after the kill happens).
void PrepareKilledWriter(const std::string& dir, const WorkloadOptions& wo, Model* model) {
  WorkloadResult result;
  Ops ops(model, &result, false);
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col =
        TEST_OpenCollection(WorkloadCollectionOptions(dir, wo), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ops.Put(**col, false, Ops::Range(0, 10), 1);
    ops.Put(**col, false, Ops::Range(10, 20), 2);
    ops.Delete(**col, {1, 4});
    ops.Put(**col, true, {2, 20}, 3);
    ASSERT_EQ(result.errors, 0u) << result.first_error;
    env.CrashAfterSync(env.sync_calls());  // killed: the close below cannot write anything
    EXPECT_FALSE((*col)->Close().ok());
  }
  ASSERT_TRUE(env.Shutdown().ok());
  // The record being appended when the writer died, torn halfway, and a checkpoint that never
  // got its name.
  const std::string record = storage::EncodeWalRecord(1, std::string(200, 'x'));
  auto log = storage::Env::Default()->NewAppendableFile(storage::JoinPath(dir, "wal-000001.log"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append(std::string_view(record).substr(0, record.size() / 2)).ok());
  ASSERT_TRUE((*log)->Close().ok());
  augurdb::testing::WriteAll(storage::JoinPath(dir, "checkpoint-000002.adb.tmp"), "partial");
}

// The workload: two sessions on `env`, a reader in between (or, for `recovery`, one session
// that starts by recovering a killed writer's database). Every call's outcome goes into the
// model; calls keep coming after a failure (the collection may refuse them: poisoned).
WorkloadResult RunWorkload(storage::Env* env, const std::string& dir, const WorkloadOptions& wo,
                           Model* model, bool verbose) {
  WorkloadResult result;
  Ops ops(model, &result, verbose);
  const CollectionOptions options = WorkloadCollectionOptions(dir, wo);
  if (wo.recovery) {
    Result<std::unique_ptr<Collection>> opened = TEST_OpenCollection(options, env);
    if (ops.Note(opened.status(), "open (recovery)")) {
      Collection& col = **opened;
      ops.Put(col, false, Ops::Range(40, 45), 8);
      ops.Delete(col, {6, 41});
      ops.Put(col, true, {7, 45}, 9);
      ops.Note(col.Checkpoint(), "checkpoint");
      ops.Put(col, false, Ops::Range(46, 49), 10);
      ops.Note(col.Close(), "close");
    }
    return result;
  }
  {
    Result<std::unique_ptr<Collection>> opened = TEST_OpenCollection(options, env);
    if (ops.Note(opened.status(), "open (new)")) {
      Collection& col = **opened;
      ops.Put(col, false, Ops::Range(0, 10), 1);
      ops.Put(col, false, Ops::Range(10, 20), 2);
      ops.Delete(col, {1, 4, 15, 99});
      ops.Put(col, true, {2, 3, 20, 21}, 3);
      {
        // A reader beside the writer replays the log the writer has appended so far.
        CollectionOptions ro = options;
        ro.read_only = true;
        Result<std::unique_ptr<Collection>> reader = TEST_OpenCollection(ro, env);
        if (ops.Note(reader.status(), "open (reader)") && result.errors == 0) {
          EXPECT_EQ((*reader)->size(), col.size()) << "the reader misses appended writes";
        }
      }
      ops.Note(col.Checkpoint(), "checkpoint");
      ops.Put(col, false, Ops::Range(22, 30), 4);
      ops.Delete(col, {22, 5});
      ops.Put(col, true, {10, 30}, 5);
      ops.Note(col.Flush(), "flush");
      ops.Note(col.Close(), "close");
    }
  }
  {
    Result<std::unique_ptr<Collection>> opened = TEST_OpenCollection(options, env);
    if (ops.Note(opened.status(), "open (existing)")) {
      Collection& col = **opened;
      ops.Put(col, false, Ops::Range(31, 36), 6);
      ops.Delete(col, {0});
      ops.Note(col.Checkpoint(), "checkpoint");
      ops.Put(col, true, {31, 2}, 7);
      ops.Note(col.Close(), "close");
    }
  }
  return result;
}

bool EnvFlag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// Reopens `dir` with the real Env and checks it against the model; "" or what is wrong. The
// real Env is wrapped only to skip its fsyncs: durability is simulated here, and thousands of
// real fsyncs would make the sweep wait on the disk (AUGURDB_FAULT_REAL_SYNC=1 keeps them).
std::string ReopenAndCheck(const std::string& dir, const Model& model) {
  std::string errors;
  FaultEnv env(storage::Env::Default(), /*forward_syncs=*/EnvFlag("AUGURDB_FAULT_REAL_SYNC"));
  for (int round = 0; round < 2; ++round) {  // the second open sees the first one's recovery
    CollectionOptions options;
    options.path = dir;
    options.threads = 1;
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(options, &env);
    if (!col.ok()) return "reopen " + std::to_string(round) + ": " + col.status().ToString();
    errors += model.Check(**col);
    Result<VerifyReport> verified = (*col)->Verify();
    if (!verified.ok()) errors += "Verify: " + verified.status().ToString() + "\n";
    Status closed = (*col)->Close();
    if (!closed.ok()) errors += "close after reopen: " + closed.ToString() + "\n";
    if (!errors.empty()) return "reopen " + std::to_string(round) + ":\n" + errors;
  }
  Status settled = env.Shutdown();
  return settled.ok() ? errors : "FaultEnv: " + settled.ToString();
}

// Failed calls the engine may swallow by design: removal of superseded files (retried at the
// next open), the size figure of a new checkpoint, the cleanup listing at open, and closing a log
// whose contents were already synced.
bool BestEffort(IoOp op) {
  return op == IoOp::kRemove || op == IoOp::kSize || op == IoOp::kList || op == IoOp::kClose;
}

// An automatic checkpoint (one the log's growth triggers inside a write) that fails is only
// logged: the write is already durable in the log, and the next one retries. A failure after
// its rename poisons the collection, which the next write reports.
bool InCheckpoint(const std::string& call) {
  return call.find("checkpoint-") != std::string::npos ||
         (call.rfind("create ", 0) == 0 && call.find("wal-") != std::string::npos) ||
         call.rfind("syncdir ", 0) == 0;
}

// Workloads by name, for case names and replay.
WorkloadOptions Workload(const std::string& name) {
  WorkloadOptions wo;
  if (name == "auto") {
    wo.checkpoint_wal_bytes = 600;  // about every third batch
    wo.auto_checkpoints = true;
  } else if (name == "recovery") {
    wo.recovery = true;
  }
  return wo;
}

// One run of the workload. Its name, e.g. "basic eio:17", "auto short-write:3 sticky
// powerloss" or "recovery crash-torn:5", is printed on failure and replays it when passed in
// AUGURDB_FAULT_CASE.
struct Case {
  std::string workload = "basic";      // basic | auto | recovery
  std::optional<FaultKind> kind;       // the fault injected at the nth applicable call
  uint64_t n = 0;                      // that n, or the sync point of a crash
  bool sticky = false;                 // the fault stays on
  bool crash = false;                  // power loss: at sync point n, or after the fault
  testing::CrashMode mode = testing::CrashMode::kDropUnsynced;

  std::string Name() const {
    std::string name = workload + " ";
    if (kind) {
      name += std::string(testing::FaultKindName(*kind)) + ":" + std::to_string(n);
      if (sticky) name += " sticky";
      if (crash) name += std::string(" powerloss-") + testing::CrashModeName(mode);
    } else {
      name += std::string("crash-") + testing::CrashModeName(mode) + ":" + std::to_string(n);
    }
    return name;
  }
};

std::optional<Case> ParseCase(const std::string& spec) {
  std::istringstream in(spec);
  Case c;
  std::string what, flag;
  if (!(in >> c.workload >> what)) return std::nullopt;
  const size_t colon = what.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string kind = what.substr(0, colon);
  c.n = std::stoull(what.substr(colon + 1));
  auto parse_mode = [&](const std::string& m) {
    for (testing::CrashMode mode : testing::kAllCrashModes) {
      if (m == testing::CrashModeName(mode)) c.mode = mode;
    }
  };
  if (kind.rfind("crash-", 0) == 0) {
    c.crash = true;
    parse_mode(kind.substr(6));
  } else {
    for (FaultKind k : testing::kAllFaultKinds) {
      if (kind == testing::FaultKindName(k)) c.kind = k;
    }
    if (!c.kind) return std::nullopt;
  }
  while (in >> flag) {
    if (flag == "sticky") c.sticky = true;
    if (flag.rfind("powerloss-", 0) == 0) {
      c.crash = true;
      parse_mode(flag.substr(10));
    }
  }
  return c;
}

struct SweepStats {
  uint64_t cases = 0;
  uint64_t faults_fired = 0;
  uint64_t swallowed = 0;  // fired, no error reported, on a best-effort call
  std::vector<std::string> failures;
};

// Runs the workload of `c` on a FaultEnv in a fresh directory under `root`, then settles the
// Env (crash or clean exit) and checks the reopened database.
void RunCase(const Case& c, const std::string& root, bool verbose, SweepStats* stats) {
  const WorkloadOptions wo = Workload(c.workload);
  const std::string dir = root + "/" + std::to_string(stats->cases++);
  Model model;
  if (wo.recovery) PrepareKilledWriter(dir, wo, &model);
  FaultEnv env(storage::Env::Default());
  if (c.kind) env.FailNth(*c.kind, c.n, c.sticky);
  if (c.crash && !c.kind) env.CrashAfterSync(c.n);
  if (verbose) std::fprintf(stderr, "case %s\n", c.Name().c_str());
  const WorkloadResult run = RunWorkload(&env, dir, wo, &model, verbose);
  std::string problem;
  if (c.kind && env.fault_fired()) {
    ++stats->faults_fired;
    if (run.errors == 0) {
      if (BestEffort(env.fired_op()) || (wo.auto_checkpoints && InCheckpoint(env.fired_call()))) {
        ++stats->swallowed;
      } else {
        problem += "the injected fault on '" + env.fired_call() + "' was never reported\n";
      }
    }
  } else if (c.kind) {
    problem += "the fault never fired (the workload's I/O is not deterministic?)\n";
  }
  const Status settled = c.crash ? env.Crash(c.mode) : env.Shutdown();
  if (!settled.ok()) problem += "FaultEnv: " + settled.ToString() + "\n";
  problem += ReopenAndCheck(dir, model);
  if (!problem.empty()) {
    stats->failures.push_back(c.Name() + (c.kind ? " (" + env.fired_call() + ")" : "") +
                              (run.errors ? ", first error " + run.first_error : "") + ":\n" +
                              problem);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The clean run: how many calls of each kind there are to fail.
struct Census {
  uint64_t calls = 0;
  std::map<FaultKind, uint64_t> eligible;
  uint64_t syncs = 0;
};

Census TakeCensus(const std::string& workload, const std::string& root) {
  const WorkloadOptions wo = Workload(workload);
  const std::string dir = root + "/census";
  Model model;
  if (wo.recovery) PrepareKilledWriter(dir, wo, &model);
  FaultEnv env(storage::Env::Default());
  const WorkloadResult run = RunWorkload(&env, dir, wo, &model, false);
  EXPECT_EQ(run.errors, 0u) << run.first_error;
  EXPECT_TRUE(env.Shutdown().ok());
  EXPECT_EQ(ReopenAndCheck(dir, model), "");
  Census census;
  census.calls = env.calls();
  for (FaultKind kind : testing::kAllFaultKinds) census.eligible[kind] = env.eligible_calls(kind);
  census.syncs = env.sync_calls();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return census;
}

bool Replaying() {
  const char* v = std::getenv("AUGURDB_FAULT_CASE");
  return v != nullptr && *v != '\0';
}

std::string Report(const SweepStats& stats) {
  std::string out;
  const size_t shown = EnvFlag("AUGURDB_FAULT_VERBOSE") ? stats.failures.size() : 20;
  for (size_t i = 0; i < stats.failures.size() && i < shown; ++i) out += stats.failures[i] + "\n";
  if (stats.failures.size() > shown) {
    out += "... and " + std::to_string(stats.failures.size() - shown) +
           " more (AUGURDB_FAULT_VERBOSE=1 shows all)\n";
  }
  return out;
}

// Every fault kind at every applicable call of `workload`.
void RunErrorSweep(const std::string& workload, bool sticky, bool crash_after) {
  const std::string root = augurdb::testing::MakeTempDir("fault_sweep");
  const Census census = TakeCensus(workload, root);
  SweepStats stats;
  for (FaultKind kind : testing::kAllFaultKinds) {
    for (uint64_t n = 1; n <= census.eligible.at(kind); ++n) {
      Case c;
      c.workload = workload;
      c.kind = kind;
      c.n = n;
      c.sticky = sticky;
      c.crash = crash_after;
      RunCase(c, root, false, &stats);
    }
  }
  std::printf("error sweep, %s workload%s%s: %llu calls in a clean run; %llu cases (eio %llu, "
              "enospc %llu, short-write %llu, sync-failure %llu), %llu faults fired, %llu "
              "swallowed by best-effort calls, %zu failed\n",
              workload.c_str(), sticky ? ", sticky" : "", crash_after ? ", then power loss" : "",
              static_cast<unsigned long long>(census.calls),
              static_cast<unsigned long long>(stats.cases),
              static_cast<unsigned long long>(census.eligible.at(FaultKind::kEio)),
              static_cast<unsigned long long>(census.eligible.at(FaultKind::kEnospc)),
              static_cast<unsigned long long>(census.eligible.at(FaultKind::kShortWrite)),
              static_cast<unsigned long long>(census.eligible.at(FaultKind::kSyncFailure)),
              static_cast<unsigned long long>(stats.faults_fired),
              static_cast<unsigned long long>(stats.swallowed), stats.failures.size());
  EXPECT_TRUE(stats.failures.empty()) << Report(stats);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

// A power loss right after every Sync/SyncDir of `workload` (and before the first), once per
// crash mode.
void RunCrashSweep(const std::string& workload) {
  const std::string root = augurdb::testing::MakeTempDir("crash_sweep");
  const Census census = TakeCensus(workload, root);
  SweepStats stats;
  for (testing::CrashMode mode : testing::kAllCrashModes) {
    for (uint64_t k = 0; k <= census.syncs; ++k) {
      Case c;
      c.workload = workload;
      c.crash = true;
      c.mode = mode;
      c.n = k;
      RunCase(c, root, false, &stats);
    }
  }
  std::printf("crash sweep, %s workload: %llu sync points x %zu crash modes, %llu cases, %zu "
              "failed\n",
              workload.c_str(), static_cast<unsigned long long>(census.syncs),
              testing::kAllCrashModes.size(), static_cast<unsigned long long>(stats.cases),
              stats.failures.size());
  EXPECT_TRUE(stats.failures.empty()) << Report(stats);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

class FaultSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Replaying()) GTEST_SKIP() << "AUGURDB_FAULT_CASE is set: only FaultSweepTest.Replay runs";
  }
};

TEST_F(FaultSweepTest, EveryNthIoCallFailing) { RunErrorSweep("basic", false, false); }
TEST_F(FaultSweepTest, EveryNthIoCallFailingDuringRecovery) {
  RunErrorSweep("recovery", false, false);
}
TEST_F(FaultSweepTest, CrashAtEverySyncPoint) { RunCrashSweep("basic"); }
TEST_F(FaultSweepTest, CrashAtEverySyncPointWithAutomaticCheckpoints) { RunCrashSweep("auto"); }
TEST_F(FaultSweepTest, CrashAtEverySyncPointDuringRecovery) { RunCrashSweep("recovery"); }

// AUGURDB_FAULT_CASE="<case name from a failure report>" runs that one case verbosely.
TEST(FaultSweepReplay, Replay) {
  if (!Replaying()) GTEST_SKIP() << "set AUGURDB_FAULT_CASE to replay one case";
  std::optional<Case> c = ParseCase(std::getenv("AUGURDB_FAULT_CASE"));
  ASSERT_TRUE(c.has_value()) << "cannot parse AUGURDB_FAULT_CASE; expected e.g. \"basic eio:17\"";
  const std::string root = augurdb::testing::MakeTempDir("fault_replay");
  SweepStats stats;
  RunCase(*c, root, true, &stats);
  EXPECT_TRUE(stats.failures.empty()) << Report(stats);
}

// The slow matrix (AUGURDB_FAULT_FULL=1, as `make test-slow` sets it): a disk that stays broken,
// power loss after each injected fault, and automatic checkpoints under faults.
class FaultSweepFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EnvFlag("AUGURDB_FAULT_FULL")) GTEST_SKIP() << "set AUGURDB_FAULT_FULL=1 for the full matrix";
    if (Replaying()) GTEST_SKIP() << "AUGURDB_FAULT_CASE is set: only FaultSweepTest.Replay runs";
  }
};

TEST_F(FaultSweepFullTest, StickyFaults) {
  RunErrorSweep("basic", /*sticky=*/true, /*crash_after=*/false);
  RunErrorSweep("recovery", /*sticky=*/true, /*crash_after=*/false);
}
TEST_F(FaultSweepFullTest, PowerLossAfterTheFault) {
  RunErrorSweep("basic", /*sticky=*/false, /*crash_after=*/true);
  RunErrorSweep("recovery", /*sticky=*/false, /*crash_after=*/true);
}
TEST_F(FaultSweepFullTest, AutomaticCheckpoints) {
  RunErrorSweep("auto", /*sticky=*/false, /*crash_after=*/false);
}
TEST_F(FaultSweepFullTest, AutomaticCheckpointsStickyFaultsThenPowerLoss) {
  RunErrorSweep("auto", /*sticky=*/true, /*crash_after=*/true);
}

}  // namespace
}  // namespace augurdb

#pragma once
/// The step journal (API.md §13): every tool call made inside a workflow step is recorded
/// before it runs and after, so a step that runs again (after a crash, or after a person's
/// decision) never repeats a call that already ran.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - A call is identified by its execution, step, agent and `call_key` (the tool and a digest
///   of its exact arguments): the same call in the same step is one entry.
/// - Errors: the pool's `errc::unavailable`, `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace pixelcraft {

/// One journaled call (`journal_begin_atom`, `journal_end_atom`).
struct journal_call {
  std::string workflow_id;
  int32_t step = 0;
  std::string agent;
  std::string call_key; ///< `<tool>:<digest of the arguments>`
  std::string kind = "tool";
  std::string name;           ///< the tool
  std::string request = "{}"; ///< the arguments, JSON object text (no secrets: model-visible)
  std::string status;         ///< `journal_end_atom`: done, failed or outcome_unknown
  std::string result = "{}";  ///< `journal_end_atom`: the result object, JSON text
  /// `journal_begin_atom` in a replay or fork (API.md §13): the execution whose journal answers
  /// this call instead of the model or vendor. A new entry takes that execution's outcome of
  /// the same call (tools: the same step, agent and `call_key`; model calls: the same step and
  /// agent, the same place among the step's model calls) and is recorded with it; when it has
  /// none, the entry is recorded `failed` and the reply's status is `missing`.
  std::string source_workflow_id;
  /// `journal_begin_atom`: the lease epoch of the run making the call (0: unfenced). When the
  /// execution's lease has moved on (another node took it over: this run is a zombie that came
  /// back from a freeze or a partition), nothing is recorded and the reply is
  /// `errc::aborted`: the call must not run.
  int64_t lease_epoch = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, journal_call& x) {
  return f(caf::meta::type_name("pixelcraft::journal_call"), x.workflow_id, x.step, x.agent,
           x.call_key, x.kind, x.name, x.request, x.status, x.result, x.source_workflow_id,
           x.lease_epoch);
}

/// What the journal knew of a call when it was begun.
struct journal_entry {
  /// `new` (recorded as started now: run it), `started` (begun before and never finished: a
  /// crash in the middle), `done`, `failed` or `outcome_unknown`; with a source execution, the
  /// source's outcome, or `missing` (the source never made this call, or never finished it).
  std::string status;
  std::string result; ///< JSON text for done, failed and outcome_unknown; empty otherwise
  int32_t call = 0;   ///< the call's number within its step, from 1
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, journal_entry& x) {
  return f(caf::meta::type_name("pixelcraft::journal_entry"), x.status, x.result, x.call);
}

using journal_store = caf::typed_actor<
    /// Records a call as started unless the journal has it. Reply: what the journal knew.
    caf::replies_to<journal_begin_atom, journal_call>::with<journal_entry>,
    /// Records how a call ended (`status`, `result`). Reply: `true`.
    caf::replies_to<journal_end_atom, journal_call>::with<bool>,
    /// The journal of execution `workflow_id`, in step and call order. Reply: `{"items":
    /// [{"step", "call", "agent", "kind", "name", "status", "request", "result", "started_at",
    /// "finished_at", "duration_ms"}], "total"}` (API.md §13; requests are the model's
    /// arguments and results the tools' answers, which never hold a secret).
    caf::replies_to<journal_list_atom, std::string>::with<std::string>>;

} // namespace pixelcraft

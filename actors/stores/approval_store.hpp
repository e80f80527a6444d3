#pragma once
/// Approvals (API.md §12): tool calls the policy held for a person, stored with the exact
/// arguments that will run if approved (never regenerated).
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - Every reply is an `approval` (or a page of them): the client's `Approval` document,
///   rendered by SQL, plus the fields the runtime itself reads, typed. An undecided approval
///   past its `expires_at` reads as `expired`, and can no longer be decided.
/// - Errors: `errc::not_found` (unknown id, or not visible to the caller),
/// `errc::failed_precondition`
///   (deciding one that is decided or expired), `errc::invalid_argument` (arguments or result
///   that are not a JSON object), and the pool's `errc::unavailable`,
///   `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// A call the policy held (`appr_add_atom`).
struct approval_request {
  std::string tool;
  std::string effect; ///< read, write or send
  std::string agent_type;
  std::string arguments = "{}"; ///< JSON object text, valid for the tool's schema
  std::string reason;           ///< why the policy asked
  std::string workflow_id;      ///< empty: not in a workflow
  std::string conversation_id;  ///< empty: none
  int32_t step = 0;             ///< the workflow step (1-based); 0: none
  std::string owner_id;         ///< who may see it besides admins (empty: admins only)
  /// Same key, same approval: a step that runs again after a restart finds the approval it
  /// raised before instead of raising another. Empty: always a new one.
  std::string dedupe_key;
  int32_t ttl_s = 86400; ///< undecided this long: expired
  /// A replay or fork (API.md §13): the dedupe key of the source execution's approval of the
  /// same call. The new approval copies its decision, note, result and expiry (no person is
  /// asked twice, and nothing runs for it); the step that raised it is answered `pending`, as
  /// the source's step was, and sees the decision at its run's next look. `errc::not_found`
  /// when the source raised no such approval.
  std::string copy_from;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_request& x) {
  return f(caf::meta::type_name("pixelcraft::approval_request"), x.tool, x.effect, x.agent_type,
           x.arguments, x.reason, x.workflow_id, x.conversation_id, x.step, x.owner_id,
           x.dedupe_key, x.ttl_s, x.copy_from);
}

/// Which approvals a caller sees (`appr_list_atom`, `appr_get_atom`).
struct approval_filter {
  std::string viewer;          ///< the caller's `sub`; empty: an admin (all of them)
  std::string approval_id;     ///< `appr_get_atom` only
  std::string state;           ///< pending, approved, denied or expired; empty: any
  std::string workflow_id;     ///< empty: any
  std::string conversation_id; ///< empty: any
  std::string tool;            ///< empty: any
  int32_t limit = 50;
  int32_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_filter& x) {
  return f(caf::meta::type_name("pixelcraft::approval_filter"), x.viewer, x.approval_id, x.state,
           x.workflow_id, x.conversation_id, x.tool, x.limit, x.offset);
}

/// A person's decision (`appr_decide_atom`).
struct approval_decision {
  std::string approval_id;
  bool approve = false;
  std::string note;
  std::string decided_by; ///< the deciding admin's `sub`
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, approval_decision& x) {
  return f(caf::meta::type_name("pixelcraft::approval_decision"), x.approval_id, x.approve, x.note,
           x.decided_by);
}

/// One stored approval. `document` is what clients read; the other fields are the same
/// values, for the actors that act on them (the tool actor, a run waiting for a decision, the
/// HTTP layer running an approved call) without reading the document.
struct approval {
  std::string document; ///< the `Approval` document (API.md §12), JSON text
  std::string id;
  std::string state; ///< pending, approved, denied or expired
  std::string tool;
  std::string agent_type;
  std::string arguments = "{}"; ///< JSON object text: exactly what runs if approved
  std::string workflow_id;      ///< empty: not in a workflow
  std::string conversation_id;  ///< empty: none
  int32_t step = 0;             ///< 0: none
  std::string note;             ///< the decider's note; empty: none
  std::string result; ///< what the approved call returned (JSON object text); empty: not yet

  bool decided() const { return state != "pending"; }
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, approval& x) {
  return f(caf::meta::type_name("pixelcraft::approval"), x.document, x.id, x.state, x.tool,
           x.agent_type, x.arguments, x.workflow_id, x.conversation_id, x.step, x.note, x.result);
}

/// A page of approvals, newest first; `total` counts every match of the filter.
struct approval_page {
  std::vector<approval> items;
  int64_t total = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, approval_page& x) {
  return f(caf::meta::type_name("pixelcraft::approval_page"), x.items, x.total);
}

using approval_store = caf::typed_actor<
    /// Stores a held call as `pending`, or finds the one with the same `dedupe_key`.
    caf::replies_to<appr_add_atom, approval_request>::with<approval>,
    /// One approval the filter's viewer may see (`approval_id`).
    caf::replies_to<appr_get_atom, approval_filter>::with<approval>,
    /// The filter's page, newest first (a client renders it `{"items": [Approval], "total"}`).
    caf::replies_to<appr_list_atom, approval_filter>::with<approval_page>,
    /// Decides a pending, unexpired approval (atomically: one decision wins). Reply: the
    /// decided approval; `errc::failed_precondition` when it was decided or expired before.
    caf::replies_to<appr_decide_atom, approval_decision>::with<approval>,
    /// Records what an approved call returned (id, result JSON object text). Reply: the
    /// approval with its `result`.
    caf::replies_to<appr_result_atom, std::string, std::string>::with<approval>>;

} // namespace pixelcraft

#pragma once
/// The `agent_messages` table (API.md §7): the mirror's batches in, pages of a workflow's
/// messages out.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - Errors: `errc::invalid_argument` (a row PostgreSQL refuses: the whole batch fails, and the
///   mirror retries it row by row), `errc::unavailable`, `errc::deadline_exceeded`,
///   `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"
#include "actors/messages.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// One write of the mirror: new rows and status changes, in one transaction.
struct agent_message_batch {
  std::vector<agent_message> rows;     ///< each accepted by `agent_message_problem`
  std::vector<std::string> status_ids; ///< message ids whose status changes...
  std::vector<std::string> statuses;   ///< ...to these (same length); only forward moves apply
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_message_batch& x) {
  return f(caf::meta::type_name("pixelcraft::agent_message_batch"), x.rows, x.status_ids,
           x.statuses);
}

/// Which messages of one workflow (`GET .../messages`, an agent's inbox).
struct agent_message_filter {
  std::string workflow_id;
  std::string from_agent;   ///< empty: any
  std::string to_agent;     ///< empty: any
  std::string message_type; ///< empty: any
  std::string status;       ///< empty: any
  bool open = false;        ///< only `pending` and `delivered`
  int32_t limit = 50;
  int32_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_message_filter& x) {
  return f(caf::meta::type_name("pixelcraft::agent_message_filter"), x.workflow_id, x.from_agent,
           x.to_agent, x.message_type, x.status, x.open, x.limit, x.offset);
}

/// A page of messages, oldest first, and how many match in all.
struct agent_message_page {
  std::vector<agent_message> items;
  int64_t total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_message_page& x) {
  return f(caf::meta::type_name("pixelcraft::agent_message_page"), x.items, x.total);
}

using agent_message_store = caf::typed_actor<
    /// Stores new rows (an existing id only moves its status forward) and status changes
    /// (`pending -> delivered -> processed`, or `-> failed`; never back). Rows of a workflow
    /// that does not exist are skipped. Reply: `true`.
    caf::replies_to<amsg_write_atom, agent_message_batch>::with<bool>,
    /// A page of a workflow's messages, by `created_at` then id.
    caf::replies_to<amsg_list_atom, agent_message_filter>::with<agent_message_page>>;

} // namespace pixelcraft

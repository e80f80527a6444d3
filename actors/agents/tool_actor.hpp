#pragma once
/// Runs agents' tools (API.md §9): CRM contacts and deals (HubSpot), email (SendGrid), meetings
/// (Google Calendar).
///
/// - Spawned once by app/ (`spawn_tool_actor`); event-based, never blocks: vendor calls go to
///   `vendor_actor` (integrations/ knows the vendors' request shapes; this actor decides what
///   may run), so independent tool calls of one turn run in parallel.
/// - `remember` and `recall` (shared memory, API.md §7) are built in: available to any agent
///   inside a workflow (the call carries `workflow_id`), never outside one; scopes `workflow`,
///   `global` (the owner's) and `system` (written by admin-owned runs only).
/// - Before anything runs, the call is checked, in this order: the tool must be in the calling
///   agent's definition (else refused) and the arguments must match its JSON schema (else
///   refused, never executed); then the policy (actors/agents/tool_policy.hpp, API.md §12):
///   `deny` gives `{"success": false, "skipped": true, "reason": "denied_by_policy"}`; a
///   service that is not configured gives `"reason": "not_configured"`; a `write`/`send` call
///   over the turn's budget (`budget_per_turn`) or the anonymous client's hourly budget
///   (`budget_anon_per_hour`) gives `"reason": "budget"`; a call that needs a person is stored
///   as an `Approval` (actors/stores/approval_store.hpp) with its exact arguments and gives
///   `{"success": false, "pending": true, "approval_id", "reason"}`. Only then does it run.
/// - Budgets are counted here, in memory: per `turn_id` (forgotten an hour after its last
///   call) and per anonymous `client` address (a sliding hour; at most 100,000 addresses
///   tracked, the oldest dropped first).
/// - An approved call (`tool_approved_atom`) runs the stored arguments once, through the same
///   allow-list, schema and configuration checks but no policy or budget, and its result is
///   stored on the approval before the reply.
/// - Inside a workflow step, every vendor call is recorded in the step journal
///   (actors/stores/journal_store.hpp) before it runs and after: the same call in the same
///   step is answered from the journal, never sent twice; one cut by a crash is sent again
///   only where the vendor cannot duplicate it, else it is `outcome_unknown` and held for a
///   person. A call with `replay_of` (a replayed step, API.md §13) is answered by that
///   execution's journal and approvals and reaches no vendor (a call it never made is an
///   error result: the replay diverged).
/// - Always replies with a result object (failures are results, so the agent can carry on):
///   `{"success": bool, "skipped"?, "reason"?, "error"?, ...}`. Every execution, refused ones
///   included, writes one `agent_logs` row `tool_execution:<tool>` (status `success`, `error`,
///   `timeout` or `skipped`). No key or secret appears in a result or a log.

#include "actors/agents/agent_catalog.hpp"
#include "actors/db_actor.hpp"
#include "actors/fwd.hpp"
#include "actors/memory/memory_store.hpp"
#include "actors/messages.hpp"
#include "actors/vendor_actor.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace pixelcraft {

using tool_actor = caf::typed_actor<
    /// In: the call (actors/messages.hpp). Reply: a `tool_result`, whose `content` is the
    /// result object for the model (never an error: a refused or failed call is a result with
    /// `"success": false`). A memory write that fails is `"version_mismatch"` only for a
    /// compare-and-set conflict (errors compared with their category: a timeout is a
    /// `timeout` result).
    caf::replies_to<tool_atom, tool_call>::with<tool_result>,
    /// Runs a call a person approved. Reply: its `tool_result` (the content is also stored on
    /// the approval). Callers wait `approved_call_timeout(settings)`.
    caf::replies_to<tool_approved_atom, approved_call>::with<tool_result>>;

/// What the tools need to know of the configuration (app/ fills it, API.md §9, §10).
struct tool_settings {
  bool crm_configured = false;      ///< `CRM_API_KEY` set
  bool email_configured = false;    ///< `EMAIL_API_KEY` set
  bool calendar_configured = false; ///< `CALENDAR_API_KEY` and `CALENDAR_ID` set
  std::string email_from;           ///< `EMAIL_FROM` (the policy: the company's own address)
  std::string email_notify_to;      ///< `EMAIL_NOTIFY_TO` (defaults to `EMAIL_FROM`)
  unsigned vendor_timeout_ms = 10000;
  unsigned vendor_retries = 3;
  unsigned vendor_backoff_ms = 200;
  unsigned db_timeout_ms = 5000;
  unsigned budget_per_turn = 3;       ///< `TOOL_BUDGET_PER_TURN`: write/send calls per turn
  unsigned budget_anon_per_hour = 10; ///< `TOOL_BUDGET_ANON_PER_HOUR`
  unsigned approval_ttl_s = 86400;    ///< `APPROVAL_TTL_S`
};

/// How long a vendor-backed tool call may take at most (every attempt and backoff), plus the
/// database writes around it: what callers of `tool_approved_atom` wait.
std::chrono::milliseconds approved_call_timeout(const tool_settings& s);

struct tool_options {
  std::shared_ptr<const agent_catalog> catalog;
  vendor_actor vendors;
  db_actor db;
  memory_actor memory; ///< for the built-in `remember`/`recall` workflow tools (may be invalid)
  tool_settings settings;
};

/// The built-in shared-memory tools every agent gets inside a workflow (JSON array of tool
/// definitions like the catalogue's). The call must carry `workflow_id`.
const std::string& memory_tools_json();

tool_actor spawn_tool_actor(caf::actor_system& sys, tool_options opts);

} // namespace pixelcraft

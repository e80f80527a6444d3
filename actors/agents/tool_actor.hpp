#pragma once
/// Runs agents' tools (API.md §9): CRM contacts and deals (HubSpot), email (SendGrid), meetings
/// (Google Calendar).
///
/// - Spawned once by app/ (`spawn_tool_actor`); event-based, never blocks: vendor calls go to
///   `vendor_actor`, so independent tool calls of one turn run in parallel.
/// - `remember` and `recall` (shared memory, API.md §7) are built in: available to any agent
///   inside a workflow (the call carries `workflow_id`), never outside one; scopes `workflow`,
///   `global` (the owner's) and `system` (written by admin-owned runs only).
/// - Before anything runs, the call is checked: the tool must be in the calling agent's
///   definition (else refused) and the arguments must match its JSON schema (else refused,
///   never executed). A service that is not configured gives
///   `{"success": false, "skipped": true, "reason": "not_configured"}` without a call.
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

#include <memory>
#include <string>

namespace pixelcraft {

using tool_actor = caf::typed_actor<
    /// In: the call (actors/messages.hpp). Reply: the result object as JSON text, for the
    /// model (never an error: a refused or failed call is a result with `"success": false`).
    /// A memory write that fails is `"version_mismatch"` only for a compare-and-set conflict
    /// (errors compared with their category: a timeout is a `timeout` result).
    caf::replies_to<tool_atom, tool_call>::with<std::string>>;

/// What the tools need to know of the configuration (app/ fills it, API.md §9, §10).
struct tool_settings {
  bool crm_configured = false;      ///< `CRM_API_KEY` set
  bool email_configured = false;    ///< `EMAIL_API_KEY` set
  bool calendar_configured = false; ///< `CALENDAR_API_KEY` and `CALENDAR_ID` set
  std::string email_from;           ///< `EMAIL_FROM`
  std::string email_notify_to;      ///< `EMAIL_NOTIFY_TO` (defaults to `EMAIL_FROM`)
  std::string calendar_id;          ///< `CALENDAR_ID`
  unsigned vendor_timeout_ms = 10000;
  unsigned vendor_retries = 3;
  unsigned db_timeout_ms = 5000;
};

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

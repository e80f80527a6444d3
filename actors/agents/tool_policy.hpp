#pragma once
/// Tool policy (API.md §12): what a tool call the model asked for may do. Pure functions, no
/// I/O; the tool actor applies them before anything is sent, and the catalogue shows each tool's
/// effect and policy in `AgentInfo`.
///
/// - Effect classes: `read` (looks something up), `write` (creates or changes a vendor record),
///   `send` (reaches a person: e-mail, calendar invitations). A built-in tool's class is fixed
///   by what it does (`builtin_effect`); the catalogue may repeat it, never lower it.
/// - Policies: `auto` (runs), `approval` (waits for a person), `deny` (never runs). Without an
///   override a tool follows the default rules (`rules`): `read` runs; `write` runs for the
///   bound lead's own record, else approval; `send` runs to the company's own addresses or the
///   bound lead's e-mail, else approval. Cancelling or moving a calendar event is always
///   approval (an override may make it `deny`, never `auto`).
/// - Overrides, strongest first: `TOOL_POLICY` (`tool=policy` or `agent.tool=policy`, comma
///   separated), then the catalogue's `policy` for the agent's tool.
/// - The bound lead is the lead a conversation or workflow was started with, as stored by the
///   server (a workflow's `input_data.lead_data` with a valid e-mail); never model text.

#include "actors/messages.hpp"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pixelcraft {

enum class tool_effect { read, write, send };
enum class tool_policy { rules, automatic, approval, deny };

const char* to_string(tool_effect e);
/// `auto`, `approval`, `deny`; `rules` prints as `approval` (what applies when the rules do
/// not let a call run).
const char* to_string(tool_policy p);
std::optional<tool_effect> effect_from_string(std::string_view s);
/// `auto`, `approval` or `deny`.
std::optional<tool_policy> policy_from_string(std::string_view s);

/// The class of a tool the runtime implements; none for other names.
std::optional<tool_effect> builtin_effect(std::string_view tool);
/// Tools whose every call needs a person (cancelling or moving a calendar event).
bool always_approval(std::string_view tool);

/// `TOOL_POLICY`, parsed: keys are `tool` or `agent.tool`.
using policy_overrides = std::map<std::string, tool_policy>;
/// Parses `TOOL_POLICY`. On failure returns none and sets `error` (naming the entry).
std::optional<policy_overrides> parse_tool_policy(std::string_view text, std::string& error);

/// The policy an operator set for `agent`'s `tool`: `TOOL_POLICY` first (`agent.tool`, then
/// `tool`), then the catalogue's (`catalog_policy`, `rules` when it has none). Never `auto`
/// for an `always_approval` tool.
tool_policy effective_policy(const policy_overrides& overrides, std::string_view agent,
                             std::string_view tool, tool_policy catalog_policy);

/// The bound lead of a workflow: its stored `input_data.lead_data` when that carries a valid
/// e-mail address (else none).
lead_binding bound_lead_of(const nlohmann::json& lead_data);

struct policy_context {
  std::string agent;
  std::string tool;
  tool_effect effect = tool_effect::write;
  tool_policy policy = tool_policy::rules; ///< `effective_policy`
  lead_binding lead;                       ///< its `budget_range` bounds an automatic deal's amount
  std::string company_from;                ///< `EMAIL_FROM`
  std::string company_notify_to;           ///< `EMAIL_NOTIFY_TO`
};

struct policy_verdict {
  enum kind { run, approval, deny } what = deny;
  std::string reason; ///< why it did not run as asked (empty for `run` by rule or override)
};

/// Decides a call whose arguments already match the tool's schema.
policy_verdict decide(const policy_context& ctx, const nlohmann::json& args);

/// The largest deal amount a lead's `budget_range` lets run without approval (none: any
/// amount needs approval).
std::optional<double> deal_cap(std::string_view budget_range);

} // namespace pixelcraft

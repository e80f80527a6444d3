#include "actors/agents/tool_policy.hpp"

#include "actors/json_limits.hpp"
#include "actors/json_schema.hpp"
#include "actors/leads/lead_scoring.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace pixelcraft {

namespace {

using json = nlohmann::json;

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool same_address(std::string_view a, std::string_view b) {
  auto x = lower_trimmed(a);
  return !x.empty() && x == lower_trimmed(b);
}

/// Who a `send` tool reaches, from its arguments (the company's own notification address for
/// the notification tool, whatever the model wrote).
std::string recipient(const policy_context& ctx, const json& args) {
  if (ctx.tool == "send_qualification_notification")
    return ctx.company_notify_to.empty() ? ctx.company_from : ctx.company_notify_to;
  if (ctx.tool == "send_marketing_proposal")
    return string_or(args, "to_email");
  return string_or(args, "attendee_email");
}

bool company_address(const policy_context& ctx, std::string_view to) {
  return same_address(to, ctx.company_from) || same_address(to, ctx.company_notify_to);
}

policy_verdict ask(std::string reason) {
  return {policy_verdict::approval, std::move(reason)};
}

policy_verdict by_rules(const policy_context& ctx, const json& args) {
  if (ctx.effect == tool_effect::read)
    return {policy_verdict::run, {}};
  if (!builtin_effect(ctx.tool))
    return ask("no rule lets this tool run by itself");
  if (ctx.effect == tool_effect::send) {
    auto to = recipient(ctx, args);
    if (company_address(ctx, to))
      return {policy_verdict::run, {}};
    if (ctx.lead.email.empty())
      return ask("the recipient is outside the company and no lead is bound to this "
                 "conversation or workflow");
    if (!same_address(to, ctx.lead.email))
      return ask("the recipient is neither the company nor the bound lead");
    return {policy_verdict::run, {}};
  }
  // write: the bound lead's own CRM record, with a deal no larger than their budget.
  if (ctx.lead.email.empty())
    return ask("no lead is bound to this conversation or workflow");
  if (!same_address(string_or(args, "email"), ctx.lead.email))
    return ask("the record is not the bound lead's own (the e-mail differs)");
  for (const char* key : {"deal_amount", "monthly_budget"}) {
    auto it = args.find(key);
    if (it == args.end())
      continue;
    auto cap = deal_cap(ctx.lead.budget_range);
    if (!it->is_number() || !cap || it->get<double>() > *cap)
      return ask("the deal amount is above the bound lead's budget range");
  }
  return {policy_verdict::run, {}};
}

} // namespace

const char* to_string(tool_effect e) {
  switch (e) {
  case tool_effect::read:
    return "read";
  case tool_effect::write:
    return "write";
  case tool_effect::send:
    return "send";
  }
  return "write";
}

const char* to_string(tool_policy p) {
  switch (p) {
  case tool_policy::automatic:
    return "auto";
  case tool_policy::deny:
    return "deny";
  case tool_policy::rules:
  case tool_policy::approval:
    return "approval";
  }
  return "approval";
}

std::optional<tool_effect> effect_from_string(std::string_view s) {
  if (s == "read")
    return tool_effect::read;
  if (s == "write")
    return tool_effect::write;
  if (s == "send")
    return tool_effect::send;
  return std::nullopt;
}

std::optional<tool_policy> policy_from_string(std::string_view s) {
  if (s == "auto")
    return tool_policy::automatic;
  if (s == "approval")
    return tool_policy::approval;
  if (s == "deny")
    return tool_policy::deny;
  return std::nullopt;
}

std::optional<tool_effect> builtin_effect(std::string_view tool) {
  static const std::map<std::string_view, tool_effect> table = {
      {"create_project_lead", tool_effect::write},
      {"create_marketing_lead", tool_effect::write},
      {"sync_lead_to_crm", tool_effect::write},
      {"send_marketing_proposal", tool_effect::send},
      {"send_qualification_notification", tool_effect::send},
      {"schedule_strategy_session", tool_effect::send},
      {"schedule_technical_consultation", tool_effect::send},
      {"schedule_qualification_call", tool_effect::send},
      {"reschedule_meeting", tool_effect::send},
      {"cancel_meeting", tool_effect::send},
      // Built in for every workflow agent: shared memory and agent messages stay inside the
      // runtime (their own rules bound them).
      {"remember", tool_effect::read},
      {"recall", tool_effect::read},
      {"send_message", tool_effect::read},
  };
  auto it = table.find(tool);
  if (it == table.end())
    return std::nullopt;
  return it->second;
}

bool always_approval(std::string_view tool) {
  return tool == "reschedule_meeting" || tool == "cancel_meeting";
}

std::optional<policy_overrides> parse_tool_policy(std::string_view text, std::string& error) {
  policy_overrides out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto item = lower_trimmed(entry);
    if (item.empty())
      continue;
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "'" + item + "' is not tool=policy";
      return std::nullopt;
    }
    auto key = lower_trimmed(item.substr(0, eq));
    auto policy = policy_from_string(lower_trimmed(item.substr(eq + 1)));
    if (!policy) {
      error = "'" + item + "': the policy must be auto, approval or deny";
      return std::nullopt;
    }
    auto ok = std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    });
    if (!ok || key.size() > 130 || key.front() == '.' || key.back() == '.' ||
        std::count(key.begin(), key.end(), '.') > 1) {
      error = "'" + item + "': expected tool or agent.tool";
      return std::nullopt;
    }
    auto tool = key.substr(key.find('.') == std::string::npos ? 0 : key.find('.') + 1);
    if (*policy == tool_policy::automatic && always_approval(tool)) {
      error = "'" + item + "': cancelling or moving a calendar event always needs approval";
      return std::nullopt;
    }
    out[key] = *policy;
  }
  return out;
}

tool_policy effective_policy(const policy_overrides& overrides, std::string_view agent,
                             std::string_view tool, tool_policy catalog_policy) {
  auto pick = catalog_policy;
  auto it = overrides.find(std::string(agent) + "." + std::string(tool));
  if (it == overrides.end())
    it = overrides.find(std::string(tool));
  if (it != overrides.end())
    pick = it->second;
  if (always_approval(tool) && pick != tool_policy::deny)
    return tool_policy::approval;
  return pick;
}

lead_binding bound_lead_of(const json& lead_data) {
  lead_binding out;
  if (!lead_data.is_object())
    return out;
  // LeadData's rules for what the policy uses (API.md §6): a valid address, a name of 1..200
  // characters without control characters, a known budget range if any.
  auto email = string_or(lead_data, "email");
  auto name = string_or(lead_data, "name");
  auto budget = string_or(lead_data, "budget_range");
  bool name_ok =
      !name.empty() && name.size() <= 800 &&
      std::none_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  bool budget_ok = !lead_data.contains("budget_range") || deal_cap(budget).has_value();
  if (email.size() > 254 || !email_like(email) || !name_ok || !budget_ok)
    return out;
  out.email = email;
  out.name = string_or(lead_data, "name");
  out.budget_range = string_or(lead_data, "budget_range");
  return out;
}

std::optional<double> deal_cap(std::string_view budget_range) {
  auto r = budget_range_bounds(budget_range);
  if (!r)
    return std::nullopt;
  return r->high ? *r->high : 4 * r->low; // an open-ended range: four times its floor
}

policy_verdict decide(const policy_context& ctx, const json& args) {
  switch (ctx.policy) {
  case tool_policy::deny:
    return {policy_verdict::deny, "denied by policy"};
  case tool_policy::approval:
    return ask(always_approval(ctx.tool) ? "cancelling or moving a calendar event needs a person"
                                         : "this tool's policy is approval");
  case tool_policy::automatic:
    return {policy_verdict::run, {}};
  case tool_policy::rules:
    break;
  }
  return by_rules(ctx, args);
}

} // namespace pixelcraft

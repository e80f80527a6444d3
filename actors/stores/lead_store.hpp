#pragma once
/// Leads (API.md §6): the typed store interface of the `leads` table.
///
/// - Served by the database pool (persistence/); `db_actor` includes this interface.
/// - Replies are the API's documents as JSON text (`Lead`, `{"items": [Lead], "total"}`),
///   rendered by the database (`pixelcraft_lead_json`, migration 0002) for the HTTP body.
/// - Errors: `errc::not_found` (no such lead), `errc::invalid_argument` (a value the table
///   refuses), `errc::unavailable`, `errc::deadline_exceeded`, `errc::internal`.
/// - Callers use `deadlines::db(db_timeout_ms)` as the request timeout.

#include "actors/fwd.hpp"

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pixelcraft {

/// A new lead, validated by the caller (HTTP `validate_lead_request`). Empty text: not given.
struct lead_input {
  std::string name;
  std::string email;
  std::string company;
  std::string phone;
  std::string message;
  std::vector<std::string> services_interested;
  std::string budget_range;
  std::string timeline;
  std::string source;
  std::string owner_id;        ///< the submitter's sub; empty: anonymous
  std::string analysis;        ///< `LeadAnalysis` JSON text; empty: none
  int32_t lead_score = -1;     ///< 0..100; -1: none
  std::string metadata = "{}"; ///< JSON object text
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lead_input& x) {
  return f(caf::meta::type_name("pixelcraft::lead_input"), x.name, x.email, x.company, x.phone,
           x.message, x.services_interested, x.budget_range, x.timeline, x.source, x.owner_id,
           x.analysis, x.lead_score, x.metadata);
}

/// Which leads, newest first. Empty text and -1: no condition.
struct lead_filter {
  std::string status;
  std::string assigned_to;
  std::string search; ///< in name, email, company and message, case-insensitive, literal
  int32_t min_score = -1;
  int32_t limit = 50;
  int32_t offset = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lead_filter& x) {
  return f(caf::meta::type_name("pixelcraft::lead_filter"), x.status, x.assigned_to, x.search,
           x.min_score, x.limit, x.offset);
}

/// A change to a lead. Empty text: unchanged.
struct lead_patch {
  std::string status;
  bool set_assignee = false; ///< with an empty `assigned_to`: unassigned
  std::string assigned_to;
  std::string note;     ///< appended to `notes` with its author and time
  std::string author;   ///< who wrote the note
  std::string metadata; ///< JSON object text, merged into the lead's (shallow)
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lead_patch& x) {
  return f(caf::meta::type_name("pixelcraft::lead_patch"), x.status, x.set_assignee, x.assigned_to,
           x.note, x.author, x.metadata);
}

using lead_store = caf::typed_actor<
    /// Inserts a lead. Reply: the `Lead`.
    caf::replies_to<lead_new_atom, lead_input>::with<std::string>,
    /// Reads one lead by id (a UUID). Reply: the `Lead`.
    caf::replies_to<lead_get_atom, std::string>::with<std::string>,
    /// A page of leads, newest first. Reply: `{"items": [Lead], "total"}`.
    caf::replies_to<lead_list_atom, lead_filter>::with<std::string>,
    /// Changes a lead: id, patch. Reply: the `Lead`.
    caf::replies_to<lead_upd_atom, std::string, lead_patch>::with<std::string>,
    /// Stores a `LeadAnalysis` (JSON text) on a lead and sets `lead_score` from it: id,
    /// analysis. Reply: the `Lead`.
    caf::replies_to<lead_anl_atom, std::string, std::string>::with<std::string>>;

} // namespace pixelcraft

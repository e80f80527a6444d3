// Leads: every statement takes its input as one jsonb parameter (made here from the typed
// message, cleaned with pg_clean) and returns the API's JSON (pixelcraft_lead_json, migration
// 0002), so field mapping lives in SQL in one place.
#include "actors/json_limits.hpp"
#include "persistence/detail.hpp"

namespace pixelcraft::persistence::detail {

namespace {

const char* lead_filter_sql = R"sql(
  ($1::jsonb->>'status' IS NULL OR l.status = $1::jsonb->>'status')
  AND ($1::jsonb->>'assigned_to' IS NULL OR l.assigned_to = $1::jsonb->>'assigned_to')
  AND ($1::jsonb->>'min_score' IS NULL OR l.lead_score >= ($1::jsonb->>'min_score')::int)
  AND ($1::jsonb->>'search' IS NULL OR (
    WITH p AS (SELECT '%' || replace(replace(replace($1::jsonb->>'search', '\', '\\'),
                                     '%', '\%'), '_', '\_') || '%' AS pat)
    SELECT l.name ILIKE p.pat OR l.email ILIKE p.pat OR coalesce(l.company, '') ILIKE p.pat
           OR l.message ILIKE p.pat FROM p)))sql";

std::string one_lead_or_throw(const pqxx::result& r) {
  if (r.empty())
    throw db_error{errc::not_found, "lead not found"};
  return r[0][0].c_str();
}

using json = nlohmann::json;

json text_or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

/// A JSON text for a jsonb field; `fallback` when it is empty or not what `want` says.
json json_or(const std::string& text, json fallback, bool object_only) {
  if (text.empty())
    return fallback;
  auto j = parse_json(text, internal_depth);
  if (j.is_discarded() || (object_only && !j.is_object()))
    throw db_error{errc::invalid_argument, "malformed JSON for a jsonb column"};
  return j;
}

} // namespace

std::string lead_document(const lead_input& in) {
  json j = {{"name", in.name},
            {"email", in.email},
            {"company", text_or_null(in.company)},
            {"phone", text_or_null(in.phone)},
            {"message", in.message},
            {"services_interested", in.services_interested},
            {"budget_range", text_or_null(in.budget_range)},
            {"timeline", text_or_null(in.timeline)},
            {"source", text_or_null(in.source)},
            {"owner_id", text_or_null(in.owner_id)},
            {"analysis", json_or(in.analysis, nullptr, true)},
            {"lead_score", in.lead_score < 0 ? json(nullptr) : json(in.lead_score)},
            {"metadata", json_or(in.metadata, json::object(), true)}};
  return pg_clean(std::move(j)).dump();
}

std::string lead_filter_document(const lead_filter& f) {
  json j = {{"limit", f.limit}, {"offset", f.offset}};
  if (!f.status.empty())
    j["status"] = f.status;
  if (!f.assigned_to.empty())
    j["assigned_to"] = f.assigned_to;
  if (!f.search.empty())
    j["search"] = f.search;
  if (f.min_score >= 0)
    j["min_score"] = f.min_score;
  return pg_clean(std::move(j)).dump();
}

std::string lead_patch_document(const lead_patch& p) {
  json j = json::object();
  if (!p.status.empty())
    j["status"] = p.status;
  if (p.set_assignee)
    j["assigned_to"] = text_or_null(p.assigned_to);
  if (!p.note.empty()) {
    j["note"] = p.note;
    j["author"] = p.author;
  }
  if (!p.metadata.empty())
    j["metadata"] = json_or(p.metadata, json::object(), true);
  return pg_clean(std::move(j)).dump();
}

std::string paged_list(pqxx::transaction_base& t, const std::string& table,
                       const std::string& alias, const std::string& where, const std::string& item,
                       const std::string& order, const std::string& args) {
  auto from = " FROM " + table + " " + alias + " WHERE " + where;
  auto total = t.exec_params1("SELECT count(*)" + from, args)[0].as<long long>();
  auto items = t.exec_params1("SELECT coalesce(jsonb_agg(" + item + " ORDER BY " + order +
                                  "), '[]'::jsonb)::text FROM"
                                  " (SELECT *" +
                                  from + " ORDER BY " + order +
                                  " LIMIT ($1::jsonb->>'limit')::int"
                                  " OFFSET ($1::jsonb->>'offset')::int) " +
                                  alias,
                              args);
  return std::string{"{\"items\":"} + items[0].c_str() + ",\"total\":" + std::to_string(total) +
         "}";
}

std::string lead_insert(pqxx::connection& c, const std::string& in) {
  return committed(c, [&](pqxx::transaction_base& w) { return lead_insert(w, in); });
}

namespace {

/// The columns of a lead from its document `j` (`lead_document`).
constexpr const char* lead_values_sql =
    "j->>'name', j->>'email', j->>'company', j->>'phone', j->>'message',"
    " coalesce(nullif(j->'services_interested', 'null'::jsonb), '[]'::jsonb),"
    " j->>'budget_range', j->>'timeline', j->>'source', j->>'owner_id',"
    " nullif(j->'analysis', 'null'::jsonb), (j->>'lead_score')::int,"
    " coalesce(nullif(j->'metadata', 'null'::jsonb), '{}'::jsonb)";

constexpr const char* lead_columns_sql =
    "name, email, company, phone, message, services_interested, budget_range, timeline, source,"
    " owner_id, analysis, lead_score, metadata";

} // namespace

std::string lead_insert(pqxx::transaction_base& w, const std::string& in) {
  static const std::string sql = std::string{"INSERT INTO leads ("} + lead_columns_sql +
                                 ") SELECT " + lead_values_sql +
                                 " FROM (SELECT $1::jsonb AS j) AS input"
                                 " RETURNING pixelcraft_lead_json(leads)::text";
  return exec_cached1(w, sql, in)[0].c_str();
}

std::vector<std::string> lead_insert_many(pqxx::transaction_base& w,
                                          const std::vector<const std::string*>& docs) {
  // Ids are made in the input so each returned row maps back to its document's position.
  static const std::string sql =
      std::string{"WITH input AS (SELECT gen_random_uuid() AS id, j, n FROM"
                  " jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(j, n)),"
                  " stored AS (INSERT INTO leads (id, "} +
      lead_columns_sql + ") SELECT id, " + lead_values_sql +
      " FROM input ORDER BY n RETURNING id, pixelcraft_lead_json(leads)::text AS doc)"
      " SELECT stored.doc FROM stored JOIN input USING (id) ORDER BY input.n";
  std::string array = "[";
  for (auto* d : docs) {
    if (array.size() > 1)
      array += ',';
    array += *d;
  }
  array += ']';
  auto r = exec_cached_n(docs.size(), w, sql, array);
  std::vector<std::string> out;
  out.reserve(r.size());
  for (auto row : r)
    out.emplace_back(row[0].c_str());
  return out;
}

std::string lead_get(pqxx::connection& c, const std::string& id) {
  pqxx::read_transaction t{c};
  return one_lead_or_throw(exec_cached(
      t, "SELECT pixelcraft_lead_json(l)::text FROM leads l WHERE l.id = $1::uuid", id));
}

std::string lead_list(pqxx::connection& c, const std::string& filter) {
  pqxx::read_transaction t{c};
  return paged_list(t, "leads", "l", lead_filter_sql, "pixelcraft_lead_json(l)",
                    "l.created_at DESC, l.id DESC", filter);
}

std::string lead_update(pqxx::connection& c, const std::string& id, const std::string& patch) {
  pqxx::work w{c};
  auto r = exec_cached(w, R"sql(
    UPDATE leads l SET
      status = coalesce($2::jsonb->>'status', l.status),
      assigned_to = CASE WHEN $2::jsonb ? 'assigned_to' THEN $2::jsonb->>'assigned_to'
                         ELSE l.assigned_to END,
      notes = CASE WHEN $2::jsonb ? 'note' THEN l.notes || jsonb_build_array(jsonb_build_object(
                     'text', $2::jsonb->>'note', 'author', $2::jsonb->>'author',
                     'created_at', pixelcraft_ts(now())))
                   ELSE l.notes END,
      metadata = CASE WHEN $2::jsonb ? 'metadata' THEN l.metadata || ($2::jsonb->'metadata')
                      ELSE l.metadata END,
      updated_at = now()
    WHERE l.id = $1::uuid
    RETURNING pixelcraft_lead_json(l)::text)sql",
                       id, patch);
  auto out = one_lead_or_throw(r);
  w.commit();
  return out;
}

std::string lead_set_analysis(pqxx::connection& c, const std::string& id,
                              const std::string& analysis) {
  pqxx::work w{c};
  auto r = exec_cached(w, R"sql(
    UPDATE leads l SET analysis = $2::jsonb,
      lead_score = ($2::jsonb->'lead_score'->>'score')::int, updated_at = now()
    WHERE l.id = $1::uuid
    RETURNING pixelcraft_lead_json(l)::text)sql",
                       id, analysis);
  auto out = one_lead_or_throw(r);
  w.commit();
  return out;
}

} // namespace pixelcraft::persistence::detail

-- JSON renderings shared by every query that returns a resource, so the API shape lives in one
-- place. Timestamps: RFC 3339, UTC, milliseconds, 'Z'.

CREATE FUNCTION pixelcraft_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION pixelcraft_lead_json(l leads) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
    'lead_id', l.id,
    'name', l.name,
    'email', l.email,
    'company', l.company,
    'phone', l.phone,
    'message', l.message,
    'services_interested', l.services_interested,
    'budget_range', l.budget_range,
    'timeline', l.timeline,
    'source', l.source,
    'status', l.status,
    'lead_score', l.lead_score,
    'assigned_to', l.assigned_to,
    'notes', l.notes,
    'metadata', l.metadata,
    'analysis', l.analysis,
    'created_at', pixelcraft_ts(l.created_at),
    'updated_at', pixelcraft_ts(l.updated_at))
$$;

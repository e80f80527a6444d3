-- pixelcraft_ts was declared IMMUTABLE, but to_char on a timestamp is STABLE (it reads
-- settings), and PostgreSQL never inlines a SQL function whose body is more volatile than its
-- declaration. So every JSON rendering of a row called it twice through the SQL-function
-- executor, which parses the body again at each statement: a third of PostgreSQL's time on lead
-- submits. Declared STABLE (what it is), it is inlined into the statements that use it.
CREATE OR REPLACE FUNCTION pixelcraft_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

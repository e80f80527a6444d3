"""The seed's stack as a benchmark peer (issue 11): FastAPI + uvicorn + psycopg2, serving the
same two routes as pixelcraft against the same PostgreSQL cluster. GET /api/agents answers the
catalogue (read once from a JSON file, as the seed kept it in a module); POST
/api/leads/submit validates the lead with pydantic and inserts it, one transaction per
request. Run by bench/peers.sh; not part of the product."""
import json
import os
import uuid

import psycopg2
import psycopg2.pool
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

DSN = os.environ["PEER_DSN"]
CATALOGUE = json.load(open(os.environ["PEER_AGENTS_JSON"]))
# One connection per thread of the threadpool that runs sync endpoints (40), as the seed had.
pool = psycopg2.pool.ThreadedConnectionPool(1, 64, DSN)
conn = pool.getconn()
with conn.cursor() as cur:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS peer_leads (id uuid PRIMARY KEY, name text NOT NULL,"
        " email text NOT NULL, company text, message text NOT NULL, source text NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())")
conn.commit()
pool.putconn(conn)

app = FastAPI()


class LeadData(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    company: str | None = None
    message: str = Field(min_length=1, max_length=10000)
    source: str


class LeadRequest(BaseModel):
    lead_data: LeadData
    analyze: bool = True


@app.get("/api/agents")
def agents():
    return JSONResponse(CATALOGUE)


@app.post("/api/leads/submit", status_code=201)
def submit(req: LeadRequest):
    lead_id = uuid.uuid4()
    c = pool.getconn()
    try:
        with c.cursor() as cur:
            cur.execute(
                "INSERT INTO peer_leads (id, name, email, company, message, source)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING created_at",
                (str(lead_id), req.lead_data.name, req.lead_data.email, req.lead_data.company,
                 req.lead_data.message, req.lead_data.source))
            created = cur.fetchone()[0]
        c.commit()
    finally:
        pool.putconn(c)
    return {"lead_id": str(lead_id), "status": "received", "created_at": created.isoformat(),
            "analysis": None}

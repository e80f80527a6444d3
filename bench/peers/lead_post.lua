-- wrk: POST /api/leads/submit with one valid lead (no analysis: the insert is what is measured).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"analyze": false, "lead_data": {"name": "Zoë O\'Connor", "email": "zoe@example.com",' ..
  ' "company": "Bakery", "message": "We need a new shop.", "source": "contact_form"}}'

// /docs: Swagger UI (npm swagger-ui-dist, served by this server) over /openapi.json.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    displayRequestDuration: true,
    // The document's servers list is relative: requests go to the origin that served the page.
    validatorUrl: null,
  });
});

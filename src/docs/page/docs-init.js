// The API reference page's own script, a file rather than inline so that the page's
// Content-Security-Policy can say `script-src 'self'` (see src/docs/docs.routes.ts).
'use strict';

(async () => {
  const root = document.getElementById('swagger-ui');
  const documentUrl = root.dataset.openapi;
  let spec;
  try {
    const res = await fetch(documentUrl, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET ${documentUrl} answered ${res.status}`);
    spec = await res.json();
  } catch (err) {
    root.textContent = `The API reference could not be loaded: ${err.message}.`;
    throw err;
  }

  // "Try it out" sends requests to the server chosen in the page, and the CSP lets the page reach its
  // own origin only: that origin comes first (the default), whatever else the document lists.
  const here = location.origin;
  const sameOrigin = (server) => {
    try {
      return new URL(server.url, location.href).href.replace(/\/+$/, '') === here;
    } catch {
      return false;
    }
  };
  const others = (spec.servers ?? []).filter((server) => !sameOrigin(server));
  spec.servers = [{ url: here, description: 'This server' }, ...others];

  window.ui = SwaggerUIBundle({
    spec,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    displayRequestDuration: true,
    // No badge image from validator.swagger.io: the page loads nothing from elsewhere.
    validatorUrl: null,
    // An API key typed into "Authorize" lives as long as the tab, never in localStorage.
    persistAuthorization: false,
  });
})();

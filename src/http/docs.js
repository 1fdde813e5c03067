// Renders the API document with Swagger UI. Kept out of the page so that the page's
// Content-Security-Policy can forbid inline scripts.
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: true,
  // The default sends the document to validator.swagger.io: nothing leaves the page.
  validatorUrl: null,
});

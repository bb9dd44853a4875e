// Starts the vendored Swagger UI on the shop's OpenAPI document (no inline script: CSP).
(function () {
  "use strict";
  var element = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: element.getAttribute("data-spec-url"),
    domNode: element,
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null,
  });
})();

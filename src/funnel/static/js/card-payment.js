// The card page: Stripe's Payment Element takes the card (the shop never sees it), confirms
// the payment with Stripe, then Stripe sends the customer to the shop's return URL, where the
// shop asks Stripe for the outcome. Without Stripe's script the page says so.
(function () {
  "use strict";
  var mount = document.getElementById("payment-element");
  var form = document.getElementById("card-form");
  var button = document.getElementById("card-submit");
  var errors = document.getElementById("card-error");
  if (!mount || !form) {
    return;
  }

  function showError(message) {
    errors.textContent = message;
    errors.hidden = false;
  }

  if (typeof window.Stripe !== "function") {
    button.disabled = true;
    showError("The card form could not be loaded. Please check your connection and reload.");
    return;
  }
  var stripe = window.Stripe(mount.getAttribute("data-publishable-key"));
  var elements = stripe.elements({ clientSecret: mount.getAttribute("data-client-secret") });
  var loading = document.getElementById("card-loading");
  if (loading) {
    loading.remove();
  }
  elements.create("payment").mount(mount);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    errors.hidden = true;
    stripe
      .confirmPayment({
        elements: elements,
        confirmParams: { return_url: mount.getAttribute("data-return-url") },
      })
      .then(function (result) {
        // Only reached when the confirmation failed (success leaves for the return URL).
        button.disabled = false;
        button.removeAttribute("aria-busy");
        if (result.error) {
          showError(result.error.message);
        }
      });
  });
})();

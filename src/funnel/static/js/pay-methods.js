// The pay page: the card fields show only while a payment method that takes a card is
// chosen (bank transfer and cash on delivery hide them). Without this script every field
// shows, and the shop ignores the card fields for a method that takes no card.
(function () {
  "use strict";
  var fields = document.getElementById("card-fields");
  if (!fields) {
    return;
  }
  var form = fields.closest("form");
  var cardMethods = (fields.getAttribute("data-card-methods") || "").split(" ");

  function update() {
    var chosen = form.querySelector('input[name="payment_method"]:checked');
    var takesCard = !chosen || cardMethods.indexOf(chosen.value) !== -1;
    fields.hidden = !takesCard;
    fields.disabled = !takesCard;
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "payment_method") {
      update();
    }
  });
  update();
})();

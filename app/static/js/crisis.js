// The crisis panel inside the PHQ-9 form: it appears the moment item 9 ("thoughts that you would
// be better off dead, or of hurting yourself") is answered above "Not at all", and hides again
// if the answer goes back to 0. The result page shows it too, so this only makes it sooner.
(function () {
  "use strict";
  var panel = document.getElementById("crisis-now");
  if (!panel) { return; }
  var answers = document.querySelectorAll("input[name=q9]");
  function update() {
    var chosen = document.querySelector("input[name=q9]:checked");
    panel.hidden = !(chosen && parseInt(chosen.value, 10) > 0);
  }
  for (var i = 0; i < answers.length; i++) { answers[i].addEventListener("change", update); }
  update();
}());

// The screening form: webcam clip or still (getUserMedia + MediaRecorder), upload with progress.
// Loaded as a file (the CSP forbids inline scripts). Without JavaScript the form still works
// as a plain multipart upload of a chosen file.
(function () {
  "use strict";
  var form = document.getElementById("screening-form");
  if (!form) { return; }
  function $(id) { return document.getElementById(id); }
  var recordSeconds = parseInt(form.getAttribute("data-record-seconds") || "10", 10);
  var cameraPart = $("camera-part"), preview = $("camera-preview"), playback = $("clip-playback");
  var still = $("still-preview"), countdown = $("countdown"), message = $("camera-message");
  var statusLine = $("record-status"), fileInput = $("media"), errorBox = $("form-error");
  var progress = $("upload-progress"), submitButton = $("submit-screening");
  var buttons = { start: $("camera-start"), record: $("record-start"), stop: $("record-stop"),
                  still: $("still-take"), again: $("record-again") };
  var stream = null, recorder = null, chunks = [], captured = null, capturedName = null;
  var stopTimer = null, tickTimer = null, objectUrl = null;

  function show(element, visible) { element.hidden = !visible; }
  function say(text) { message.textContent = text || ""; show(message, !!text); }
  function showError(text) { errorBox.textContent = text; show(errorBox, !!text); if (text) { errorBox.scrollIntoView({ block: "center" }); } }

  cameraPart.hidden = false;
  var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  if (!canRecord) {
    show(buttons.start, false);
    say("This browser cannot use the camera here. Please upload a photo instead.");
  }

  function clearCaptured() {
    captured = null; capturedName = null;
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    playback.removeAttribute("src"); still.removeAttribute("src");
    show(playback, false); show(still, false);
  }

  function cameraReady() {
    show(preview, true); show(buttons.start, false); show(buttons.record, true); show(buttons.still, true);
    show(buttons.again, false); show(buttons.stop, false);
  }

  function explain(error) {
    if (error && (error.name === "NotAllowedError" || error.name === "SecurityError")) {
      return "Camera access was denied. You can allow the camera in your browser's settings, or upload a photo above instead.";
    }
    if (error && (error.name === "NotFoundError" || error.name === "OverconstrainedError")) {
      return "No camera was found on this device. Please upload a photo above instead.";
    }
    return "The camera could not be started" + (error && error.name ? " (" + error.name + ")" : "") + ". Please upload a photo above instead.";
  }

  buttons.start.addEventListener("click", function () {
    say("");
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false })
      .then(function (mediaStream) { stream = mediaStream; preview.srcObject = stream; cameraReady(); })
      .catch(function (error) { say(explain(error)); });
  });

  function pickMimeType() {
    var candidates = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm", "video/mp4"];
    for (var i = 0; i < candidates.length; i++) {
      if (MediaRecorder.isTypeSupported(candidates[i])) { return candidates[i]; }
    }
    return "";
  }

  function startRecording() {
    var type = pickMimeType();
    chunks = [];
    try {
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
    } catch (error) { say(explain(error)); cameraReady(); return; }
    recorder.addEventListener("dataavailable", function (event) { if (event.data && event.data.size) { chunks.push(event.data); } });
    recorder.addEventListener("stop", function () {
      clearTimeout(stopTimer); clearInterval(tickTimer);
      var mime = (recorder.mimeType || "video/webm").split(";")[0];
      captured = new Blob(chunks, { type: mime });
      capturedName = mime === "video/mp4" ? "clip.mp4" : "clip.webm";
      objectUrl = URL.createObjectURL(captured);
      playback.src = objectUrl;
      show(preview, false); show(playback, true); show(buttons.stop, false); show(buttons.again, true);
      fileInput.value = "";
      statusLine.textContent = "Clip recorded. Answer the questions below, then submit.";
      form.setAttribute("data-captured", "clip");
    });
    var started = Date.now();
    recorder.start(250);
    show(buttons.stop, true);
    statusLine.textContent = "Recording… " + recordSeconds + " s left";
    tickTimer = setInterval(function () {
      var left = Math.max(0, recordSeconds - Math.floor((Date.now() - started) / 1000));
      statusLine.textContent = "Recording… " + left + " s left";
    }, 500);
    stopTimer = setTimeout(function () { if (recorder.state !== "inactive") { recorder.stop(); } }, recordSeconds * 1000);
  }

  buttons.record.addEventListener("click", function () {
    clearCaptured();
    show(buttons.record, false); show(buttons.still, false);
    var left = 3;
    countdown.textContent = left; show(countdown, true);
    var timer = setInterval(function () {
      left -= 1;
      if (left > 0) { countdown.textContent = left; return; }
      clearInterval(timer); show(countdown, false); startRecording();
    }, 1000);
  });

  buttons.stop.addEventListener("click", function () {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
  });

  buttons.still.addEventListener("click", function () {
    clearCaptured();
    var canvas = document.createElement("canvas");
    canvas.width = preview.videoWidth || 640; canvas.height = preview.videoHeight || 480;
    canvas.getContext("2d").drawImage(preview, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      captured = blob; capturedName = "photo.jpg";
      objectUrl = URL.createObjectURL(blob); still.src = objectUrl;
      show(preview, false); show(still, true); show(buttons.record, false); show(buttons.still, false); show(buttons.again, true);
      fileInput.value = "";
      statusLine.textContent = "Photo taken. Answer the questions below, then submit.";
      form.setAttribute("data-captured", "photo");
    }, "image/jpeg", 0.92);
  });

  buttons.again.addEventListener("click", function () {
    clearCaptured(); form.removeAttribute("data-captured"); statusLine.textContent = ""; cameraReady();
  });

  // "The questionnaire only": hide the face part and switch the camera off; nothing is sent.
  var faceParts = $("face-parts");
  function withFace() {
    var chosen = form.querySelector("input[name=include]:checked");
    return !chosen || chosen.value === "face";
  }
  function updateFaceParts() {
    faceParts.hidden = !withFace();
    if (faceParts.hidden && stream) {
      if (recorder && recorder.state !== "inactive") { recorder.stop(); }
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null; show(preview, false); show(buttons.start, canRecord);
      show(buttons.record, false); show(buttons.still, false); show(buttons.stop, false);
    }
  }
  var includeInputs = form.querySelectorAll("input[name=include]");
  for (var i = 0; i < includeInputs.length; i++) { includeInputs[i].addEventListener("change", updateFaceParts); }
  updateFaceParts();

  // Too large a file is refused here, before minutes of uploading end in the server's 413.
  function tooLarge(file) {
    var isVideo = /^video\//.test(file.type);
    var limit = parseInt(form.getAttribute(isVideo ? "data-max-clip-bytes" : "data-max-photo-bytes"), 10);
    return limit && file.size > limit ? Math.floor(limit / (1024 * 1024)) : 0;
  }

  fileInput.addEventListener("change", function () {
    showError("");
    if (!fileInput.files.length) { return; }
    var limitMb = tooLarge(fileInput.files[0]);
    if (limitMb) {
      showError("This file is larger than " + limitMb + " MB. Please choose a smaller photo or a shorter clip.");
      fileInput.value = "";
      return;
    }
    clearCaptured(); form.removeAttribute("data-captured");
  });

  // Enter on an answer would submit the whole form by accident (implicit submission): it only
  // selects, as Space does.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.type === "radio") {
      event.preventDefault();
      event.target.checked = true;
      event.target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // Name the unanswered questions, mark them for sight and for screen readers, go to the first.
  function missingAnswers() {
    var missing = [];
    var items = form.querySelectorAll("fieldset.phq-item:not(.difficulty)");
    for (var i = 0; i < items.length; i++) {
      var answered = !!items[i].querySelector("input:checked");
      items[i].classList.toggle("field-invalid", !answered);
      var inputs = items[i].querySelectorAll("input");
      for (var j = 0; j < inputs.length; j++) { inputs[j].setAttribute("aria-invalid", answered ? "false" : "true"); }
      if (!answered) { missing.push(i + 1); }
    }
    return missing;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var face = withFace();
    var held = form.querySelector("input[name=held_upload]");  // a file the server kept from the last try
    if (face && !captured && !fileInput.files.length && !(held && held.value)) {
      showError("Please choose a photo or record a clip — or choose the questionnaire only.");
      return;
    }
    var missing = missingAnswers();
    if (missing.length) {
      var names = missing.length === 1 ? "question " + missing[0]
        : "questions " + missing.slice(0, -1).join(", ") + " and " + missing[missing.length - 1];
      showError("Please answer all nine questions: " + names + (missing.length === 1 ? " still needs" : " still need") + " an answer.");
      var firstMissing = form.querySelector("#fieldset-q" + missing[0] + " input");
      if (firstMissing) { firstMissing.focus(); }
      return;
    }
    var data = new FormData(form);
    // "Submit and talk to a doctor now" sends its name like a plain form submission would.
    if (event.submitter && event.submitter.name) { data.set(event.submitter.name, event.submitter.value); }
    if (!face) { data.delete("media"); } else if (captured) { data.set("media", captured, capturedName); }
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { progress.value = Math.round(100 * e.loaded / e.total); progress.textContent = progress.value + "%"; }
    });
    request.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
      if (request.status === 201 && body.url) {
        if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
        window.location.assign(body.next || body.url);
        return;
      }
      submitButton.disabled = false; show(progress, false);
      showError((body.error && body.error.message) || "The screening could not be submitted (error " + request.status + "). Please try again.");
    });
    request.addEventListener("error", function () {
      submitButton.disabled = false; show(progress, false);
      showError("The upload failed. Please check your connection and try again.");
    });
    submitButton.disabled = true; progress.value = 0; show(progress, true);
    request.send(data);
  });
})();

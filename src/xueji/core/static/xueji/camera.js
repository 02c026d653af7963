// The device's camera for photo forms (N2). Where the page is served over HTTPS the
// browser's camera opens in the page; elsewhere nothing happens here and the file
// input's capture attribute lets a phone open its camera app. External file: the
// Content Security Policy forbids inline script.
(function () {
  "use strict";

  function setUp(block) {
    var form = block.closest("form");
    var input = form && form.querySelector('input[type="file"][name="photo"]');
    if (!input || !window.isSecureContext) return;
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return;
    if (typeof DataTransfer === "undefined") return;

    var open = button(block.dataset.labelOpen || "Use the camera");
    var take = button(block.dataset.labelTake || "Take the photo");
    var video = document.createElement("video");
    var result = document.createElement("img");
    var stream = null;
    video.className = "camera-video";
    video.setAttribute("playsinline", "");
    video.muted = true;
    video.hidden = true;
    take.hidden = true;
    result.className = "camera-result";
    result.alt = block.dataset.labelResult || "";
    result.hidden = true;
    block.append(open, video, take, result);

    open.addEventListener("click", function () {
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          video.hidden = false;
          take.hidden = false;
          open.hidden = true;
          return video.play();
        })
        .catch(function () {
          // Refused or no camera: the file input still works.
          block.classList.add("camera-failed");
        });
    });

    take.addEventListener("click", function () {
      if (!stream || !video.videoWidth) return;
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(
        function (blob) {
          if (!blob) return;
          var file = new File([blob], "camera.jpg", { type: "image/jpeg" });
          var transfer = new DataTransfer();
          transfer.items.add(file);
          input.files = transfer.files;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          if (result.src) URL.revokeObjectURL(result.src);
          result.src = URL.createObjectURL(blob);
          result.hidden = false;
          stop();
        },
        "image/jpeg",
        0.92
      );
    });

    function stop() {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = true;
      take.hidden = true;
      open.hidden = false;
    }
  }

  function button(label) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "btn camera-button";
    element.textContent = label;
    return element;
  }

  function setUpAll(root) {
    (root || document).querySelectorAll("[data-camera]").forEach(function (block) {
      if (block.dataset.cameraReady) return;
      block.dataset.cameraReady = "1";
      setUp(block);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUpAll(); });
  } else {
    setUpAll();
  }
  // Pages swapped in by htmx get their camera blocks too.
  document.addEventListener("htmx:afterSettle", function (event) { setUpAll(event.target); });
})();

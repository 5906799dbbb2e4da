// A "Copy" button copies the text of the field named in its data-copy attribute.
// The clipboard API needs a secure context; elsewhere select the text and use execCommand.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  function copied() {
    if (button.getAttribute("data-copied")) button.textContent = button.getAttribute("data-copied");
  }
  function fallback() {
    field.focus();
    field.select();
    try {
      if (document.execCommand("copy")) copied();
    } catch (error) {
      // The text stays selected: the user can copy it by hand.
    }
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(copied, fallback);
  } else {
    fallback();
  }
});

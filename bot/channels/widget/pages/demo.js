// The demo site's own "Doe de test" button opens the chat widget.
document.addEventListener('click', function (e) {
  var b = e.target.closest && e.target.closest('[data-open-chat]');
  if (b && window.Vrijwilligerskracht) {
    e.preventDefault();
    window.Vrijwilligerskracht.open();
  }
});

// The embed page: builds the snippet from the form and shows a live preview of the colours.
(function () {
  'use strict';
  var form = document.getElementById('builder');
  var base = form.getAttribute('data-base');
  var snippet = document.getElementById('snippet');
  var colour = document.getElementById('f-colour');
  var accent = form.elements.accent;
  var preview = null;
  var HEX = /^#[0-9a-f]{6}$/i;

  var SAMPLE = {
    nl: [
      { text: 'Hoi! 👋 Ik stel je een paar korte vragen. Daarna weet je wat voor vrijwilliger jij bent.' },
      { user: 'Ja, dat is goed' },
      {
        text: 'Wat doe je het liefst?',
        buttons: [
          { title: 'Met mijn handen werken', payload: '/a/p/1' },
          { title: 'Praten met mensen', payload: '/a/p/2' },
          { title: 'Dingen regelen', payload: '/a/p/3' },
        ],
        custom: { quiz: { question_id: 'p', kind: 'choice', step: 3, total: 12 }, nav: [{ title: 'Waarom vraag ik dit?', payload: '/why' }] },
      },
    ],
    en: [
      { text: 'Hi! 👋 I will ask you a few short questions. Then you will know what kind of volunteer you are.' },
      { user: 'Yes, that is fine' },
      {
        text: 'What do you like doing most?',
        buttons: [
          { title: 'Working with my hands', payload: '/a/p/1' },
          { title: 'Talking with people', payload: '/a/p/2' },
          { title: 'Organising things', payload: '/a/p/3' },
        ],
        custom: { quiz: { question_id: 'p', kind: 'choice', step: 3, total: 12 }, nav: [{ title: 'Why do you ask?', payload: '/why' }] },
      },
    ],
  };

  function attr(name, value) {
    var v = String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return '\n  ' + name + '="' + v + '"';
  }

  // Is a colour light enough that dark text reads better on it? (WCAG relative luminance)
  function light(hex) {
    var n = parseInt(hex.slice(1), 16);
    var lum = [n >> 16, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05);
  }

  function values() {
    var f = form.elements;
    return {
      org: f.org.value.trim(),
      lang: f.lang.value,
      mode: form.querySelector('input[name=mode]:checked').value,
      accent: HEX.test(accent.value.trim()) ? accent.value.trim() : '',
      title: f.title.value.trim(),
      teaser: f.teaser.value.trim(),
      campaign: f.campaign.value.trim(),
    };
  }

  function update() {
    var v = values();
    var code = '';
    if (v.mode === 'inline') code += '<div id="vrijwilligerskracht"></div>\n';
    code += '<script src="' + base + '/widget.js"';
    if (v.org) code += attr('data-org', v.org);
    code += attr('data-lang', v.lang);
    if (v.accent) code += attr('data-accent', v.accent);
    if (v.title) code += attr('data-title', v.title);
    if (v.mode === 'inline') code += attr('data-target', '#vrijwilligerskracht');
    else if (v.teaser) code += attr('data-teaser', v.teaser);
    if (v.campaign) code += attr('data-campaign', v.campaign);
    code += ' defer></' + 'script>';
    snippet.textContent = code;
    if (v.accent) colour.value = v.accent.toLowerCase();
    document.getElementById('launch-note').hidden = v.mode === 'inline';
    document.documentElement.style.setProperty('--accent', v.accent || '#c2410c');
    document.documentElement.style.setProperty('--on', light(v.accent || '#c2410c') ? '#111' : '#fff');
    if (preview) preview.destroy();
    var api = window.Vrijwilligerskracht;
    if (api) {
      preview = api.mount({
        target: '#preview',
        preview: SAMPLE[v.lang === 'en' ? 'en' : 'nl'],
        accent: v.accent,
        title: v.title,
        lang: v.lang === 'auto' ? 'nl' : v.lang,
        height: 540,
      });
    }
  }

  colour.addEventListener('input', function () {
    accent.value = colour.value;
    update();
  });
  form.addEventListener('input', function (e) {
    if (e.target !== colour) update();
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
  });
  document.getElementById('copy').addEventListener('click', function () {
    var done = function () {
      document.getElementById('copied').textContent = 'Gekopieerd!';
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(snippet.textContent).then(done);
    else {
      var range = document.createRange();
      range.selectNodeContents(snippet);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.getElementById('copied').textContent = 'Geselecteerd: druk op Ctrl+C (of Cmd+C).';
    }
  });
  update();
})();

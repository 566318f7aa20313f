// Test page for events.test.mjs: a host page that uses <kindling-playground> through its
// events and methods only, as a blog post with its own script would. It records every
// kindling-* event it hears at the document, and asks for text as soon as training reports
// its first progress (training goes on meanwhile).
import '../www/kindling-embed.js';

const TYPES = ['kindling-ready', 'kindling-metrics', 'kindling-token', 'kindling-finished', 'kindling-error'];
const element = document.getElementById('playground');

window.seen = [];
for (const type of TYPES) {
  document.addEventListener(type, (event) => {
    const { bubbles, composed, detail } = event;
    window.seen.push({ type, bubbles, composed, detail, target: event.target.id });
  });
}

element.addEventListener(
  'kindling-metrics',
  () => {
    window.generation = element.generate('the ').then(
      (result) => (window.generated = result),
      (error) => (window.generated = { error: error.message, kind: error.kind }),
    );
  },
  { once: true },
);

// A test page's record of what went wrong in it, read by engines.test.mjs in any engine
// (WebKit's WebDriver has no init scripts, so the page includes this first, as a classic
// script, which the strict CSP allows): the Content-Security-Policy violations the document
// sees (as browser.mjs's recordCspViolations keeps them) and uncaught errors and rejections.
window.cspViolations = [];
window.pageErrors = [];
document.addEventListener(
  'securitypolicyviolation',
  (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
  },
  true,
);
window.addEventListener('error', (event) => window.pageErrors.push(String(event.message)));
window.addEventListener('unhandledrejection', (event) => window.pageErrors.push(String(event.reason)));

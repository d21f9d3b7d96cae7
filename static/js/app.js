/*
 * Progressive enhancement for every page (loaded as an ES module from base.html).
 * Every page works without it: forms post, the navigation is a visible list, images keep their alt text.
 * No inline scripts or style attributes: the CSP (script-src 'self'; style-src 'self') forbids them.
 */

/** Forms (or submit buttons) with data-confirm="…" ask before they are sent. */
function confirmBeforeSubmit() {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const message = event.submitter?.dataset.confirm || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });
}

/** A page that comes back with errors puts the keyboard and the screen reader on the list of errors;
 *  its links then move the focus to the field at fault (a plain #anchor would only scroll). */
function focusErrorSummary() {
  const summary = document.querySelector('.error-summary');
  if (!summary) return;
  if (!summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1');
  summary.focus();
  summary.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#"]');
    if (!link) return;
    const anchor = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!anchor) return;
    // A group of radio buttons is named by its fieldset: focus its first input.
    const target = anchor.matches('input, select, textarea, button, [tabindex]')
      ? anchor : anchor.querySelector('input, select, textarea, button');
    if (!target) return;
    event.preventDefault();
    target.focus({ preventScroll: true });
    const label = anchor.tagName === 'FIELDSET' ? anchor.querySelector('legend')
      : target.id && document.querySelector(`label[for="${CSS.escape(target.id)}"]`);
    (label || target).scrollIntoView({ block: 'center' });
  });
}

/** On narrow screens the main menu folds behind a «Menu» button (base.html renders it hidden,
 *  so without JS the list simply stays open). */
function navDisclosure() {
  const nav = document.querySelector('.site-nav');
  const button = nav?.querySelector('.site-nav__toggle');
  const list = nav?.querySelector('ul');
  if (!nav || !button || !list) return;
  if (!list.id) list.id = 'site-nav-list';
  button.setAttribute('aria-controls', list.id);
  const setOpen = (open) => {
    button.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('site-nav--open', open);
  };
  setOpen(false);
  button.hidden = false;
  nav.classList.add('site-nav--js');
  button.addEventListener('click', () => setOpen(button.getAttribute('aria-expanded') !== 'true'));
  nav.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && button.getAttribute('aria-expanded') === 'true'
        && getComputedStyle(button).display !== 'none') {
      setOpen(false);
      button.focus();
    }
  });
}

/** Version for visually impaired users with images off: the stylesheet hides the pictures;
 *  here their text alternative takes their place and video posters go. */
function imagesOff() {
  if (!document.body.classList.contains('a11y-images-off')) return;
  for (const img of document.querySelectorAll('img[alt]')) {
    const alt = img.getAttribute('alt').trim();
    if (!alt || img.nextElementSibling?.classList.contains('img-alt')) continue;
    const text = document.createElement('span');
    text.className = 'img-alt';
    text.textContent = alt;
    img.after(text);
  }
  for (const video of document.querySelectorAll('video[poster]')) video.removeAttribute('poster');
}

/** A wide table scrolls sideways inside its box; a box that does scroll is put in the Tab order and named by
 *  its table's caption, so keyboard users can scroll it too (WCAG 2.1.1). */
function scrollableTables() {
  const mark = () => {
    for (const box of document.querySelectorAll('.table-scroll')) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
        box.setAttribute('role', 'region');
        const caption = box.querySelector('caption');
        box.setAttribute('aria-label', caption ? caption.textContent.trim() : document.title);
      } else if (!scrolls && box.getAttribute('tabindex') === '0') {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    }
  };
  mark();
  window.addEventListener('resize', mark);
}

confirmBeforeSubmit();
scrollableTables();
focusErrorSummary();
navDisclosure();
imagesOff();

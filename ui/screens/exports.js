// CEB625 return applications for customs: one return's message, or a batch by ids.
import { h, fill, field } from '../dom.js';
import { t } from '../i18n/index.js';
import { apiUrl, seg } from '../api.js';

function parseIds(text) {
  return [...new Set(String(text).split(/[\s,，;；]+/).map((x) => x.trim()).filter(Boolean))];
}

export default {
  title: 'nav.exports',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const ids = h('textarea', { id: 'export-ids', name: 'ids', rows: 5, value: ctx.query.ids || '', spellcheck: 'false' });
    const link = h('a', { class: 'btn big primary', id: 'ceb625-download', 'data-action': 'ceb625-batch', href: '#', 'aria-disabled': 'true' }, t('export.download'));
    const count = h('p', { class: 'muted', 'aria-live': 'polite' });
    const update = () => {
      const list = parseIds(ids.value);
      count.textContent = t('export.count', { n: list.length });
      if (!list.length) {
        link.href = '#';
        link.setAttribute('aria-disabled', 'true');
        link.removeAttribute('download');
        return;
      }
      link.removeAttribute('aria-disabled');
      if (list.length === 1) {
        link.href = apiUrl(`/returns/${seg(list[0])}/ceb625.xml`);
        link.setAttribute('download', `${list[0]}-ceb625.xml`);
      } else {
        link.href = apiUrl('/exports/ceb625', { ids: list.join(',') });
        link.setAttribute('download', 'ceb625.xml');
      }
    };
    ids.addEventListener('input', update);
    link.addEventListener('click', (e) => {
      if (link.getAttribute('aria-disabled') === 'true') e.preventDefault();
    });
    fill(ctx.view,
      h('h1', {}, t('nav.exports')),
      h('section', { class: 'card' },
        h('p', {}, t('export.intro')),
        field(t('export.ids'), ids, t('export.ids_hint')),
        count,
        h('div', { class: 'button-row' }, link),
        h('p', { class: 'muted' }, t('export.from_search'), ' ', h('a', { href: '#/returns' }, t('nav.returns')))));
    update();
  },
};

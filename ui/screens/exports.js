// CEB625 return applications for customs: one return's message, or a batch by ids.
import { h, fill, field } from '../dom.js';
import { t } from '../i18n/index.js';
import { download, seg } from '../api.js';
import { ok } from '../feedback.js';
import { showError } from '../errors.js';

/**
 * Downloads the CEB625 message of the returns `ids` and says so (file name and count), or
 * says in words why not (an unknown id, no network): a bare link gave no word either way.
 */
export async function downloadCeb625(ids, button) {
  const one = ids.length === 1;
  const file = one ? `${ids[0]}-ceb625.xml` : 'ceb625.xml';
  if (button) button.disabled = true;
  try {
    if (one) await download(`/returns/${seg(ids[0])}/ceb625.xml`, undefined, file);
    else await download('/exports/ceb625', { ids: ids.join(',') }, file);
    ok(t('export.downloaded', { file, n: ids.length }));
    return true;
  } catch (err) {
    showError(err, 'export');
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

function parseIds(text) {
  return [...new Set(String(text).split(/[\s,，;；]+/).map((x) => x.trim()).filter(Boolean))];
}

export default {
  title: 'nav.exports',
  roles: ['supervisor', 'admin'],
  async render(ctx) {
    const ids = h('textarea', { id: 'export-ids', name: 'ids', rows: 5, value: ctx.query.ids || '', spellcheck: 'false' });
    const link = h('button', {
      type: 'button', class: 'btn big primary', id: 'ceb625-download', 'data-action': 'ceb625-batch', disabled: true,
      onclick: () => downloadCeb625(parseIds(ids.value), link),
    }, t('export.download'));
    const count = h('p', { class: 'muted', 'aria-live': 'polite' });
    const update = () => {
      const list = parseIds(ids.value);
      count.textContent = t('export.count', { n: list.length });
      link.disabled = !list.length;
    };
    ids.addEventListener('input', update);
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

// The return label after receiving: a preview, one big print button (printed automatically
// once when arriving from receive), then on to the next parcel.
import { h, fill } from '../dom.js';
import { t } from '../i18n/index.js';
import { seg } from '../api.js';
import { say, ok } from '../feedback.js';
import { bigButton, sectionTitle } from '../components.js';
import { printLabel, returnLabelUrl } from '../print.js';
import { pref, setPref, loadDraft, saveDraft } from '../store.js';
import { resolveCode, routeResolved, actionHref } from '../scanflow.js';
import { navigate } from '../router.js';

export default {
  title: 'label.title',
  handheld: true,
  async render(ctx) {
    const id = ctx.params.id;
    ctx.returnId = id;
    let size = pref('label.size', '100x150');
    const img = h('img', { class: 'label-preview', id: 'label-preview', alt: t('label.alt', { id }) });
    const setSize = (next) => {
      size = next;
      setPref('label.size', next);
      img.src = returnLabelUrl(id, size);
      for (const b of sizes.querySelectorAll('button')) b.setAttribute('aria-pressed', b.dataset.size === size ? 'true' : 'false');
    };
    const sizes = h('div', { class: 'chips', role: 'group', 'aria-label': t('label.size') },
      ['100x150', '60x40'].map((s) => h('button', { type: 'button', class: 'chip', 'data-size': s, onclick: () => setSize(s) }, t(`label.size_${s}`))));
    img.addEventListener('error', () => say(t('label.load_failed'), 'error'));

    const print = async () => {
      await printLabel(returnLabelUrl(id, size), size);
    };

    fill(ctx.view,
      h('section', { class: 'card' },
        sectionTitle(t('label.title')),
        h('p', { class: 'code xl', 'data-testid': 'return-id' }, id),
        h('p', {}, t('label.stick')),
        sizes,
        h('div', { class: 'label-frame' }, img)));
    setSize(size);
    ctx.setActions(
      bigButton(t('label.print'), { id: 'print', 'data-action': 'print_label', onclick: print }),
      h('a', { class: 'btn big secondary', href: `#/r/${seg(id)}`, 'data-action': 'view' }, t('label.to_return')),
      h('a', { class: 'btn big secondary', href: '#/', 'data-action': 'next' }, t('label.next_parcel')));

    ctx.onScan = async (code) => {
      const res = await resolveCode(code, id);
      const same = (res.return && res.return.id === id) || (res.kind === 'return' && res.id === id);
      if (same && res.line && (res.next_actions || []).includes('sort')) {
        // Label stuck, parcel opened: the first product scanned starts sorting, counted.
        const draft = loadDraft('sort', id) || { counts: {}, unmatched: {}, bin: null };
        draft.counts[res.line.gnum] = (draft.counts[res.line.gnum] || 0) + 1;
        saveDraft('sort', id, draft);
        ok(t('sort.counted', { name: res.line.gname || res.line.gcode }));
        navigate(actionHref('sort', id));
        return true;
      }
      routeResolved(res);
      return true;
    };

    if (ctx.query.auto === '1') {
      // Print once; a reload of this screen must not print the label again.
      history.replaceState(null, '', `#/r/${seg(id)}/label`);
      print();
    }
  },
};

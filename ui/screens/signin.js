// Sign in. The role that comes back decides the home screen.
import { h, fill, field } from '../dom.js';
import { t } from '../i18n/index.js';
import { request } from '../api.js';
import { showError } from '../errors.js';
import { clearMessage } from '../feedback.js';
import { navigate } from '../router.js';

export default {
  title: 'signin.title',
  handheld: false,
  async render(ctx) {
    const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false' });
    const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const button = h('button', { type: 'submit', id: 'signin', class: 'btn big primary', 'data-action': 'signin' }, t('signin.submit'));
    const form = h('form', {
      class: 'card signin',
      onsubmit: async (e) => {
        e.preventDefault();
        if (!username.value.trim() || !password.value) return;
        button.disabled = true;
        try {
          const who = await request('POST', '/session', { body: { username: username.value.trim(), password: password.value } });
          clearMessage();
          ctx.signedIn(who);
          const next = ctx.query.next && ctx.query.next.startsWith('#/') && !ctx.query.next.startsWith('#/signin')
            ? ctx.query.next : ctx.homeFor(who);
          navigate(next, { replace: true });
        } catch (err) {
          password.value = '';
          showError(err, 'signin');
          password.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, t('app.name')),
    h('p', { class: 'muted' }, t('signin.intro')),
    field(t('signin.username'), username),
    field(t('signin.password'), password),
    button);
    fill(ctx.view, form);
    username.focus();
  },
};

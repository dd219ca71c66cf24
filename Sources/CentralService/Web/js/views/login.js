// The login page: name and password, POST /api/login. The session is an HttpOnly cookie; the
// answer's CSRF token goes with every change from then on.

import { post } from '../api.js';
import { h, replace } from '../dom.js';

export function loginView(container, { onLogin, next }) {
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'login-message', id: 'login-message', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: 'login-submit' }, 'Log in');

  const form = h('form', { class: 'login-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: name.id }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: password.id }, 'Password'), password),
    message, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(message);
    if (!name.value.trim() || !password.value) {
      replace(message, h('p', { class: 'alert alert-bad', role: 'alert' }, 'Enter your name and password.'));
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const me = await post('/login', { name: name.value.trim(), password: password.value });
      onLogin(me, next);
    } catch (error) {
      const text = error.code === 'bad-credentials' ? 'Wrong name or password.' : error.message;
      replace(message, h('p', { class: 'alert alert-bad', role: 'alert' }, text));
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });

  replace(container, h('section', { class: 'login' },
    h('div', { class: 'login-card' },
      h('h1', null, 'Lichtweg Central'),
      h('p', { class: 'lead' }, 'Street lighting control for the pilot routes. Log in with the account your administrator gave you.'),
      form),
    h('p', { class: 'login-foot' }, 'Every change is recorded in the audit log with your name.')));
  setTimeout(() => name.focus(), 0);
  return null;
}

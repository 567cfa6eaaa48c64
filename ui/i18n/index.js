// Language switch: Chinese by default, English on request, the choice kept on the device.
import zh from './zh.js';
import en from './en.js';

const DICTS = { zh, en };
const STORAGE_KEY = 'br.lang';

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let lang = DICTS[stored()] ? stored() : 'zh';

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!DICTS[next]) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode: the switch still works for this page.
  }
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
}

/** Translates key; {name} placeholders are filled from vars. Falls back to Chinese, then the key. */
export function t(key, vars) {
  let text = DICTS[lang][key] ?? DICTS.zh[key];
  if (text === undefined) return key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] === undefined || vars[name] === null ? m : String(vars[name])));
  }
  return text;
}

/** Label of an enumerated value (state, grade, route…), or the raw value when unknown. */
export function label(group, value) {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${group}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

/** True when the dictionary has the key (used to pick a specific message before a generic one). */
export function has(key) {
  return DICTS[lang][key] !== undefined || DICTS.zh[key] !== undefined;
}

document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';

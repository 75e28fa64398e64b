"use strict";
// The words every page shares, in Russian, Polish and English. Each page's own words are in
// i18n-<page>.js beside it. Strict JSON inside each call (tests/hotline/test_i18n.py reads it).
catalogue("ru", {
  "language.label": "Язык",
  "signin.account": "Учётная запись",
  "signin.password": "Пароль",
  "signin.code": "Код",
  "signin.submit": "Войти",
  "account.change_password": "Сменить пароль",
  "account.sign_out": "Выйти"
});
catalogue("pl", {
  "language.label": "Język",
  "signin.account": "Konto",
  "signin.password": "Hasło",
  "signin.code": "Kod",
  "signin.submit": "Zaloguj się",
  "account.change_password": "Zmień hasło",
  "account.sign_out": "Wyloguj się"
});
catalogue("en", {
  "language.label": "Language",
  "signin.account": "Account",
  "signin.password": "Password",
  "signin.code": "Code",
  "signin.submit": "Sign in",
  "account.change_password": "Change password",
  "account.sign_out": "Sign out"
});

/* OC Pizza ordering: progressive enhancement only. Every form here works without this file
   (plain POST, redirect, message); with it, the cart changes in place (the order page follows
   the kitchen through live.js). No inline script or style: the CSP forbids them. */
(function () {
  "use strict";

  function updateCount(count) {
    document.querySelectorAll("[data-cart-count]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.hidden = !count;
    });
  }

  function postForm(form, submitter, extra) {
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    Object.keys(extra || {}).forEach(function (key) { data.append(key, extra[key]); });
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json();
    });
  }

  /* Add to cart from a menu card or a product page. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-cart-add]")) return;
    event.preventDefault();
    var status = form.querySelector("[data-add-status]");
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    postForm(form, event.submitter)
      .then(function (data) {
        updateCount(data.count);
        if (status) {
          status.textContent = [data.message].concat(data.changes || []).join(" ");
          status.classList.toggle("is-error", !data.ok);
          status.classList.toggle("is-ok", !!data.ok);
        }
      })
      .catch(function () { form.submit(); })
      .finally(function () { if (button) button.disabled = false; });
  });

  /* The cart page: each change re-renders the cart's lines and totals. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var body = form.closest("[data-cart-body]");
    if (!form.matches("[data-cart-form]") || !body) return;
    event.preventDefault();
    postForm(form, event.submitter, { fragment: "cart" })
      .then(function (data) {
        if (data.html) body.innerHTML = data.html;
        updateCount(data.count);
        var status = body.querySelector("[data-cart-status]");
        if (status) status.textContent = [data.message].concat(data.changes || []).join(" ");
        if (!data.ok || (data.changes || []).length) {
          var box = document.createElement("p");
          box.className = "message" + (data.ok ? "" : " message-error");
          box.setAttribute("role", "alert");
          box.textContent = [data.message].concat(data.changes || []).join(" ");
          body.insertBefore(box, body.firstChild);
        }
      })
      .catch(function () { form.submit(); });
  });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("[data-cart-quantity]")) return;
    var form = input.form;
    if (form && form.closest("[data-cart-body]")) form.requestSubmit();
  });

  /* Checkout: the address is asked only for delivery. */
  function showAddress() {
    var chosen = document.querySelector("input[name=fulfilment]:checked");
    document.querySelectorAll("[data-delivery-only]").forEach(function (block) {
      block.hidden = !!chosen && chosen.value !== "delivery";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=fulfilment]")) showAddress();
  });

  /* Card payments online (checkout and pay page): the card becomes a token in the browser, with
     Square's Web Payments SDK or the simulator's look-alike form; only the token is posted, the
     card's own inputs have no name. The messages come translated in data-message-* attributes. */
  function message(box, name) {
    return box.getAttribute("data-message-" + name) || box.getAttribute("data-message-failed");
  }

  function cardError(box, name) {
    var error = new Error(message(box, name));
    error.forCustomer = true; /* ours, translated: shown as is (the SDK's are not) */
    return error;
  }

  function digits(value) {
    return (value || "").replace(/\D/g, "");
  }

  /* Who pays, for 3-D Secure: the checkout's own fields, else the order's (pay page). */
  function billingContact(form, box) {
    function value(field, attribute) {
      var input = form.querySelector("[name=" + field + "]");
      if (input && input.value.trim()) return input.value.trim();
      return box.getAttribute("data-billing-" + attribute) || "";
    }
    var name = value("name", "name").split(/\s+/);
    var contact = {
      givenName: name[0] || "",
      familyName: name.slice(1).join(" "),
      email: value("email", "email"),
      phone: value("phone", "phone"),
      countryCode: "FR",
    };
    var street = value("street_address", "street");
    if (street) {
      contact.addressLines = [street];
      contact.postalCode = value("postcode", "postcode");
      contact.city = value("city", "city");
    }
    return contact;
  }

  function verificationDetails(form, box) {
    return {
      amount: box.getAttribute("data-amount"),
      currencyCode: box.getAttribute("data-currency") || "EUR",
      intent: "CHARGE",
      customerInitiated: true,
      sellerKeyedIn: false,
      billingContact: billingContact(form, box),
    };
  }

  /* Square: the SDK's card field, tokenised with the verification details so that Square runs
     3-D Secure when the card's bank asks for it (the token then carries the verification). */
  function squareCard(box) {
    var holder = box.querySelector("[data-square-card]");
    var lang = (document.documentElement.lang || "fr").slice(0, 2);
    var ready = Promise.resolve().then(function () {
      if (!window.Square) throw cardError(box, "unavailable");
      var payments = window.Square.payments(
        box.getAttribute("data-application-id"),
        box.getAttribute("data-location-id")
      );
      return Promise.resolve(payments.setLocale(lang === "en" ? "en-GB" : "fr-FR"))
        .then(function () { return payments.card(); })
        .then(function (card) {
          return card.attach("#" + holder.id).then(function () { return card; });
        });
    });
    ready.catch(function () { showCardError(box, message(box, "unavailable")); });
    return {
      tokenize: function (details) {
        return ready
          .then(function (card) { return card.tokenize(details); })
          .then(function (result) {
            if (result.status !== "OK") throw cardError(box, "failed");
            return { token: result.token, verificationToken: "" };
          });
      },
    };
  }

  /* The simulator: a card form that looks like Square's, giving the sandbox token of the test
     card typed in, by the rule of the simulator's `token_for` (its `card_form()` lists the cards):
     a listed number gives its token; Square's failing CVV, postal code or expiry (the listed
     variants of a number) make any accepted card decline; 3-D Secure with a challenge asks for
     the code, as Square's modal does. */
  var CARD_FIELDS = { cvv: "cvv", postal_code: "postcode", expiry: "expiry" };

  function simulatedCard(box) {
    var panel = box.querySelector("[data-simulated-card]");
    var list = document.getElementById("simulated-cards");
    var cards = list ? JSON.parse(list.textContent) : [];
    var byNumber = {};
    var failures = [];
    cards.forEach(function (card) {
      var number = digits(card.number);
      var first = byNumber[number];
      if (!first) { byNumber[number] = card; return; }
      Object.keys(CARD_FIELDS).forEach(function (key) {
        if (card[key] !== first[key]) failures.push({ key: key, value: card[key], token: card.token });
      });
    });
    panel.hidden = false;

    function typed(name) {
      return panel.querySelector("[data-card-" + name + "]").value.trim();
    }
    function tokenOf(card) {
      if (card.code) return card.token; /* a declined card declines whatever was typed */
      var failing = failures.filter(function (failure) {
        return typed(CARD_FIELDS[failure.key]).replace(/\s/g, "") === failure.value.replace(/\s/g, "");
      })[0];
      return failing ? failing.token : card.token;
    }
    return {
      tokenize: function () {
        var number = digits(typed("number"));
        var expiry = /^(\d{2})\s*\/\s*(\d{2})$/.exec(typed("expiry"));
        if (number.length < 12) return Promise.reject(cardError(box, "number"));
        var now = new Date();
        if (
          !expiry || +expiry[1] < 1 || +expiry[1] > 12 ||
          new Date(2000 + +expiry[2], +expiry[1], 1) <= new Date(now.getFullYear(), now.getMonth(), 1)
        ) {
          return Promise.reject(cardError(box, "expiry"));
        }
        if (!/^\d{3,4}$/.test(typed("cvv"))) return Promise.reject(cardError(box, "cvv"));
        if (!typed("postcode")) return Promise.reject(cardError(box, "postcode"));
        var card = byNumber[number];
        if (!card) return Promise.reject(cardError(box, "unknown"));
        var token = tokenOf(card);
        var verified = card.verification === "challenge" ? challenge(box, card) : Promise.resolve();
        return verified.then(function () { return { token: token, verificationToken: "" }; });
      },
    };
  }

  /* 3-D Secure with a challenge: the bank's code in a modal dialog (the test cards' code). The
     dialog sits inside the order's form, so it has buttons, not a form of its own. */
  function challenge(box, card) {
    var dialog = box.querySelector("[data-card-challenge]");
    var input = dialog.querySelector("[data-challenge-code]");
    return new Promise(function (resolve, reject) {
      var done = false;
      function finish(ok) {
        if (done) return;
        done = true;
        dialog.removeEventListener("close", cancelled);
        dialog.removeEventListener("click", clicked);
        input.removeEventListener("keydown", keyed);
        if (dialog.open) dialog.close();
        if (ok) resolve(); else reject(cardError(box, "verification"));
      }
      function confirm() { finish(input.value.trim() === card.challenge_code); }
      function cancelled() { finish(false); }
      function clicked(event) {
        if (event.target.closest("[data-challenge-confirm]")) confirm();
        else if (event.target.closest("[data-challenge-cancel]")) finish(false);
      }
      function keyed(event) {
        if (event.key === "Enter") { event.preventDefault(); confirm(); }
      }
      input.value = "";
      dialog.addEventListener("close", cancelled);
      dialog.addEventListener("click", clicked);
      input.addEventListener("keydown", keyed);
      dialog.showModal();
      input.focus();
    });
  }

  function showCardError(box, text) {
    var errors = box.querySelector("[data-card-errors]");
    errors.textContent = text || "";
    errors.hidden = !text;
  }

  function cardPayment(box) {
    var form = box.closest("form");
    var token = box.querySelector("[data-card-token]");
    var verification = box.querySelector("[data-verification-token]");
    var card = box.getAttribute("data-card-form") === "square" ? squareCard(box) : simulatedCard(box);
    var busy = false;

    function paysByCard() {
      if (!form.querySelector("input[name=payment_method]")) return true; /* the pay page */
      var chosen = form.querySelector("input[name=payment_method]:checked");
      return !!chosen && chosen.value === "card_online";
    }
    function reset() {
      token.value = verification.value = "";
      token.disabled = verification.disabled = true;
      busy = false;
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "payment_method") box.hidden = !paysByCard();
    });
    box.hidden = !paysByCard();
    /* Back to the page from the browser's cache: a token is single-use, start again. */
    window.addEventListener("pageshow", function (event) { if (event.persisted) reset(); });

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!paysByCard() || (submitter && submitter.name === "switch_to_pickup")) return;
      event.preventDefault();
      if (busy) return;
      busy = true;
      if (submitter) submitter.disabled = true;
      showCardError(box, "");
      card
        .tokenize(verificationDetails(form, box))
        .then(function (result) {
          token.value = result.token;
          token.disabled = false;
          if (result.verificationToken) {
            verification.value = result.verificationToken;
            verification.disabled = false;
          }
          form.submit();
        })
        .catch(function (error) {
          reset();
          showCardError(box, error && error.forCustomer ? error.message : message(box, "failed"));
        });
    });
  }

  function start() {
    showAddress();
    document.querySelectorAll("[data-card-form]").forEach(cardPayment);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

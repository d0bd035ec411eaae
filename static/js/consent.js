// Analytics only after consent (Traficom 2021): refusing is as easy as accepting,
// and consent can be withdrawn on the privacy notice page.
(function () {
  "use strict";
  var KEY = "kb-analytics-consent";
  var banner = document.getElementById("consent-banner");
  if (!banner) { return; }
  var id = banner.getAttribute("data-analytics-id");
  function load() {
    if (document.getElementById("analytics-script")) { return; }
    var s = document.createElement("script");
    s.id = "analytics-script";
    s.async = true;
    s.src = "https://www.googletagmanager.com/gtag/js?id=" + encodeURIComponent(id);
    document.head.appendChild(s);
    window.dataLayer = window.dataLayer || [];
    window.gtag = function () { window.dataLayer.push(arguments); };
    window.gtag("js", new Date());
    window.gtag("config", id, { anonymize_ip: true });
  }
  function clearCookies() {
    document.cookie.split(";").forEach(function (c) {
      var name = c.split("=")[0].trim();
      if (name.indexOf("_ga") === 0 || name === "_gid") {
        var host = window.location.hostname;
        document.cookie = name + "=; Max-Age=0; path=/";
        document.cookie = name + "=; Max-Age=0; path=/; domain=" + host;
        document.cookie = name + "=; Max-Age=0; path=/; domain=." + host.split(".").slice(-2).join(".");
      }
    });
  }
  var choice = window.localStorage.getItem(KEY);
  if (choice === "granted") { load(); } else if (choice !== "denied") { banner.hidden = false; }
  banner.querySelectorAll("[data-consent]").forEach(function (button) {
    button.addEventListener("click", function () {
      var value = button.getAttribute("data-consent");
      window.localStorage.setItem(KEY, value);
      banner.hidden = true;
      if (value === "granted") { load(); }
    });
  });
  var withdraw = document.getElementById("withdraw-consent");
  if (withdraw) {
    withdraw.hidden = false;
    withdraw.addEventListener("click", function () {
      window.localStorage.setItem(KEY, "denied");
      clearCookies();
      window.location.reload();
    });
  }
})();

/* oscar_llm: report clicks on recommended products.
 *
 * One delegated listener on the document, so blocks added or re-rendered later (the basket
 * page's AJAX update) are covered too. The report is a POST that outlives the page
 * (navigator.sendBeacon, else fetch with keepalive) and carries Django's CSRF token, so the
 * click still counts when the browser has already moved to the product page.
 */
(function () {
    'use strict';
    var script = document.currentScript;
    var url = script && script.getAttribute('data-oscar-llm-click-url');
    if (!url) { return; }

    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : script.getAttribute('data-csrf-token');
    }

    function report(link) {
        var data = new FormData();
        data.append('block', link.getAttribute('data-oscar-llm-rec'));
        data.append('product', link.getAttribute('data-product-id'));
        data.append('csrfmiddlewaretoken', csrfToken() || '');
        if (navigator.sendBeacon && navigator.sendBeacon(url, data)) { return; }
        if (window.fetch) {
            fetch(url, {method: 'POST', body: data, keepalive: true, credentials: 'same-origin'});
        }
    }

    function onClick(event) {
        // auxclick: a middle click opens the product in a new tab, which is a click too.
        if (event.type === 'auxclick' && event.button !== 1) { return; }
        var link = event.target.closest && event.target.closest('a[data-oscar-llm-rec]');
        if (link) { report(link); }
    }
    document.addEventListener('click', onClick, true);
    document.addEventListener('auxclick', onClick, true);
}());

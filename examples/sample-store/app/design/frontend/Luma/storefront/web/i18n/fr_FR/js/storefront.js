/* Luma Storefront (fr_FR): greets the shopper under the headline. */
(function () {
  'use strict';
  var greeting = 'Bienvenue dans notre boutique !';
  document.addEventListener('DOMContentLoaded', function () {
    var headline = document.querySelector('.headline');
    if (headline) headline.setAttribute('title', greeting);
  });
})();

/* Luma Storefront: greets the shopper under the headline. */
(function () {
  'use strict';
  var greeting = 'Welcome to our store!';
  document.addEventListener('DOMContentLoaded', function () {
    var headline = document.querySelector('.headline');
    if (headline) headline.setAttribute('title', greeting);
  });
})();

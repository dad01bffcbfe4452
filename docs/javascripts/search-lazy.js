// Индекс поиска (search/search_index.json, 1,8 МБ, в gzip — около 250 КБ)
// грузится, только когда читатель взялся за поиск. Material запрашивает его
// сразу при открытии любой страницы и тут же строит из него индекс lunr в
// отдельном потоке — это секунда работы процессора телефона и четверть
// мегабайта по сети, пока страница ещё только показывается (Lighthouse,
// tools/lighthouse.py: Largest Contentful Paint). А ищут не на каждой странице.
//
// Material просит индекс через XMLHttpRequest и ждёт ответа сколько угодно.
// Этот файл подключается перед скриптом Material (overrides/main.html) и
// придерживает отправку именно этого запроса, пока читатель не откроет поиск:
// поле поиска получило фокус (щелчок, клавиши s, f, /) или нажат значок поиска
// (на телефоне). Тогда запрос уходит, и Material, пока индекс не готов,
// показывает «Инициализация поиска». Страница, открытая из результатов поиска
// (адрес с ?h=слово, Material подсвечивает на ней найденное), получает индекс
// сразу: без него подсветки нет. Все остальные запросы идут как обычно.
(function () {
  const INDEX = "search/search_index.json";
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  const held = [];
  let wanted = new URLSearchParams(location.search).has("h");

  // Читатель взялся за поиск: придержанный запрос уходит.
  function release() {
    wanted = true;
    for (const [request, args] of held.splice(0)) send.apply(request, args);
  }

  XMLHttpRequest.prototype.open = function (method, url) {
    this.isSearchIndex = String(url).endsWith(INDEX);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.isSearchIndex && !wanted) {
      held.push([this, arguments]);
      return;
    }
    return send.apply(this, arguments);
  };

  // Поле поиска в фокусе или переключатель поиска (значок лупы) включён.
  document.addEventListener("focusin", function (event) {
    if (!wanted && event.target.closest("form[name=search]")) release();
  });
  document.addEventListener("change", function (event) {
    if (!wanted && event.target.id === "__search" && event.target.checked) release();
  });
})();

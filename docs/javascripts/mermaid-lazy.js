// Mermaid (3,5 МБ, самый тяжёлый файл сайта) грузится, только когда диаграмма
// подходит к экрану. Этот файл подключает overrides/main.html, и только на
// страницах с диаграммой; страница без диаграмм не грузит Mermaid вовсе.
//
// Диаграммы рисует Material: при загрузке страницы он видит window.mermaid (и
// тогда не идёт за библиотекой на unpkg.com), вызывает mermaid.initialize(
// настройки) и для каждой диаграммы mermaid.render(id, текст) — только эти два
// вызова. Здесь window.mermaid — заместитель с теми же двумя вызовами: render
// ждёт, пока блок с этим текстом окажется в пределах экрана от видимой части
// страницы, затем один раз загружает настоящий mermaid.min.js (он лежит рядом,
// в javascripts/) и рисует им. Диаграмма внизу длинной страницы не задерживает
// её первый показ, а если до неё не долистали — Mermaid не загружается.
(function () {
  const source = new URL("mermaid.min.js", document.currentScript.src).href;
  let settings = {};
  let library = null;
  const taken = new Set();

  // Настоящий Mermaid: загружается один раз, при первой нужной диаграмме.
  function load() {
    library ||= new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = source;
      // mermaid.min.js заменяет window.mermaid собой
      script.onload = function () {
        window.mermaid.initialize(settings);
        resolve(window.mermaid);
      };
      script.onerror = function () {
        reject(new Error("Mermaid не загрузился: " + source));
      };
      document.head.append(script);
    });
    return library;
  }

  // Блок <pre> с текстом диаграммы (Material передаёт в render его textContent).
  function blockOf(text) {
    for (const pre of document.querySelectorAll("pre")) {
      if (!taken.has(pre) && pre.textContent === text) {
        taken.add(pre);
        return pre;
      }
    }
    return null;
  }

  // Ждёт, пока блок не окажется ближе экрана от видимой части страницы.
  function nearScreen(block) {
    return new Promise(function (resolve) {
      if (!block) return resolve();
      const watch = new IntersectionObserver(
        function (entries) {
          if (entries.some((entry) => entry.isIntersecting)) {
            watch.disconnect();
            resolve();
          }
        },
        { rootMargin: "100% 0px" },
      );
      watch.observe(block);
    });
  }

  // Телефон: широкая схема, сжатая до ширины экрана, — это подписи в 7 px.
  // phone.css не даёт ей стать уже ширины, при которой самая мелкая подпись —
  // LEGIBLE_PX; ширину знает только нарисованная схема (её размеры и шрифты —
  // внутри закрытого теневого корня), поэтому она записывается здесь в
  // переменную CSS на самом блоке диаграммы.
  const LEGIBLE_PX = 10.5; // 10 px с запасом на округление
  function keepLabelsLegible(root) {
    const svg = root.querySelector("svg");
    const width = svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width;
    if (!width) return;
    let smallest = Infinity;
    for (const node of svg.querySelectorAll("*")) {
      const own = [...node.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
      if (own) smallest = Math.min(smallest, parseFloat(getComputedStyle(node).fontSize));
    }
    if (!isFinite(smallest)) return;
    const legible = Math.ceil((width * LEGIBLE_PX) / smallest);
    root.host.style.setProperty("--mermaid-legible-width", legible + "px");
  }

  window.mermaid = {
    initialize(config) {
      settings = config;
    },
    render(id, text) {
      return nearScreen(blockOf(text))
        .then(load)
        .then((mermaid) => mermaid.render(id, text))
        .then(function (drawn) {
          // Material вызывает fn(теневой корень), когда схема уже на странице
          return {
            ...drawn,
            fn(root) {
              keepLabelsLegible(root);
              if (drawn.fn) drawn.fn(root);
            },
          };
        });
    },
  };
})();

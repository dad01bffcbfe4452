// Ссылка на вкладку открывает эту вкладку: …/task1/#клиент — выбрана «Клиент».
// Material ищет вкладку по location.hash как есть, а браузер отдаёт там якорь
// в %-кодировке (#%D0%BA%D0%BB…), и русский якорь не находится — открывалась
// первая вкладка. Здесь то же самое, но по раскодированному якорю: щелчок по
// переключателю вкладки, как если бы его сделал читатель.
function openTabFromHash() {
  let id;
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch {
    return; // битая %-последовательность в адресе — это не наша вкладка
  }
  const input = document.getElementById(id);
  if (input && input.matches(".tabbed-set > input") && !input.checked) {
    input.click();
  }
}

// document$ — поток Material «страница готова» (и после мгновенной навигации).
document$.subscribe(openTabFromHash);
window.addEventListener("hashchange", openTabFromHash);

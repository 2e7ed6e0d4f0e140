// The Jupyter widgets HTML manager typesets labels through the MathJax 2 API (MathJax.Hub.Queue);
// this page loads MathJax 3. Map the old call onto MathJax 3's typesetPromise, queueing until ready.
(function () {
  const pending = [];
  const flush = () => {
    const mathjax = window.MathJax;
    if (mathjax && typeof mathjax.typesetPromise === "function" && pending.length) {
      mathjax.typesetPromise(pending.splice(0)).catch(() => {});
    }
  };
  const hub = {
    Queue: (...jobs) => {
      jobs.forEach((job) => { if (Array.isArray(job) && job[2]) pending.push(job[2]); });
      flush();
    },
  };
  const config = window.MathJax || {};
  config.Hub = hub;
  config.startup = Object.assign({}, config.startup || {}, {
    ready() {
      window.MathJax.startup.defaultReady();
      window.MathJax.Hub = hub;
      window.MathJax.startup.promise.then(flush);
    },
  });
  window.MathJax = config;
})();

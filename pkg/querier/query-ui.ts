/**
 * queryUiHtml returns the querier's web UI: one self-contained page (no external assets) with a
 * PromQL box, instant (table) and range (graph) modes, dedup and partial-response switches and the
 * endpoint list. `prefix` is the external path prefix the API is reached under.
 */
export function queryUiHtml(prefix: string): string {
  const base = JSON.stringify(prefix.replace(/\/+$/, ''));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#23395d;color:#fff;padding:10px 16px;font-weight:600}
main{padding:16px;max-width:1200px;margin:auto}
textarea{width:100%;font:13px ui-monospace,monospace;box-sizing:border-box;padding:8px}
.row{display:flex;gap:12px;align-items:center;margin:8px 0;flex-wrap:wrap}
button{background:#23395d;color:#fff;border:0;padding:6px 14px;border-radius:4px;cursor:pointer}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font:12px ui-monospace,monospace}
.err{color:#b00;white-space:pre-wrap}.warn{color:#a60}
svg{background:#fff;border:1px solid #ddd}
</style></head><body>
<header>Tessera query</header>
<main>
<textarea id="q" rows="3" placeholder="Expression (press Shift+Enter for newlines)"></textarea>
<div class="row">
<label><input type="radio" name="mode" value="table" checked> Table</label>
<label><input type="radio" name="mode" value="graph"> Graph</label>
<label>Range <input id="range" value="1h" size="5"></label>
<label><input type="checkbox" id="dedup" checked> Deduplication</label>
<label><input type="checkbox" id="partial" checked> Partial response</label>
<button id="run">Execute</button>
<span id="status"></span>
</div>
<div id="msg"></div>
<div id="out"></div>
<h3>Stores</h3><div id="stores"></div>
</main>
<script>
const base = ${base};
const $ = (id) => document.getElementById(id);
function dur(s){const m=/^(\\d+)(s|m|h|d|w)$/.exec(s.trim());if(!m)return 3600;return +m[1]*{s:1,m:60,h:3600,d:86400,w:604800}[m[2]];}
function esc(s){return String(s).replace(/[&<>"]/g,(c)=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
function metric(m){const n=m.__name__||'';const rest=Object.entries(m).filter(([k])=>k!=='__name__').map(([k,v])=>k+'="'+v+'"');return n+'{'+rest.join(', ')+'}';}
async function run(){
  const q=$('q').value.trim(); if(!q)return;
  const mode=document.querySelector('input[name=mode]:checked').value;
  const p=new URLSearchParams({query:q,dedup:$('dedup').checked,partial_response:$('partial').checked});
  const now=Date.now()/1000; let url;
  if(mode==='table'){p.set('time',now);url=base+'/api/v1/query';}
  else{const r=dur($('range').value);p.set('start',now-r);p.set('end',now);p.set('step',Math.max(1,Math.round(r/250)));url=base+'/api/v1/query_range';}
  $('status').textContent='…'; const t0=performance.now();
  const res=await fetch(url,{method:'POST',body:p}); const j=await res.json();
  $('status').textContent=Math.round(performance.now()-t0)+' ms';
  $('msg').innerHTML=(j.error?'<div class="err">'+esc(j.errorType+': '+j.error)+'</div>':'')+(j.warnings||[]).map(w=>'<div class="warn">'+esc(w)+'</div>').join('');
  if(j.status!=='success'){$('out').innerHTML='';return;}
  const d=j.data;
  if(d.resultType==='matrix'&&mode==='graph'){graph(d.result);return;}
  let rows=[];
  if(d.resultType==='vector')rows=d.result.map(s=>[metric(s.metric),s.value?s.value[1]:JSON.stringify(s.histogram)]);
  else if(d.resultType==='matrix')rows=d.result.map(s=>[metric(s.metric),(s.values||[]).map(v=>v[1]+' @'+v[0]).join('<br>')]);
  else rows=[['',d.result[1]]];
  $('out').innerHTML='<table><tr><th>Series</th><th>Value</th></tr>'+rows.map(r=>'<tr><td>'+esc(r[0])+'</td><td>'+r[1]+'</td></tr>').join('')+'</table>';
}
function graph(series){
  const W=1100,H=360;let x0=Infinity,x1=-Infinity,y0=Infinity,y1=-Infinity;
  for(const s of series)for(const [t,v] of s.values){const f=+v;if(!isFinite(f))continue;x0=Math.min(x0,t);x1=Math.max(x1,t);y0=Math.min(y0,f);y1=Math.max(y1,f);}
  if(!isFinite(x0)){$('out').textContent='no data';return;}
  if(y0===y1){y0-=1;y1+=1;} if(x0===x1)x1=x0+1;
  const X=t=>40+(t-x0)/(x1-x0)*(W-50),Y=v=>H-20-(v-y0)/(y1-y0)*(H-30);
  const col=i=>'hsl('+(i*67%360)+',60%,45%)';
  const paths=series.slice(0,100).map((s,i)=>'<path fill="none" stroke="'+col(i)+'" d="'+s.values.filter(([,v])=>isFinite(+v)).map(([t,v],k)=>(k?'L':'M')+X(t).toFixed(1)+','+Y(+v).toFixed(1)).join('')+'"><title>'+esc(metric(s.metric))+'</title></path>').join('');
  $('out').innerHTML='<svg width="'+W+'" height="'+H+'"><text x="2" y="14" font-size="11">'+y1.toPrecision(4)+'</text><text x="2" y="'+(H-22)+'" font-size="11">'+y0.toPrecision(4)+'</text>'+paths+'</svg>'+series.slice(0,100).map((s,i)=>'<div style="color:'+col(i)+'">'+esc(metric(s.metric))+'</div>').join('');
}
async function stores(){
  try{const j=await (await fetch(base+'/api/v1/stores')).json();
  $('stores').innerHTML='<table><tr><th>Endpoint</th><th>Type</th><th>Healthy</th><th>Labels</th><th>Min time</th><th>Max time</th><th>Error</th></tr>'+j.data.map(s=>'<tr><td>'+esc(s.name)+'</td><td>'+esc(s.componentType)+'</td><td>'+(s.healthy?'yes':'no')+'</td><td>'+esc(s.labelSets.map(l=>JSON.stringify(l)).join(' '))+'</td><td>'+(Math.abs(s.minTime)<1e15?new Date(s.minTime).toISOString():s.minTime)+'</td><td>'+(Math.abs(s.maxTime)<1e15?new Date(s.maxTime).toISOString():s.maxTime)+'</td><td>'+esc(s.lastError||'')+'</td></tr>').join('')+'</table>';}catch(e){$('stores').textContent=String(e);}
}
$('run').onclick=run; $('q').addEventListener('keydown',e=>{if(e.key==='Enter'&&!e.shiftKey){e.preventDefault();run();}});
const u=new URLSearchParams(location.search);
if(u.get('mode')==='graph')document.querySelector('input[value=graph]').checked=true;
if(u.get('range'))$('range').value=u.get('range');
if(u.get('q')){$('q').value=u.get('q');run();}
stores(); setInterval(stores,10000);
</script></body></html>`;
}

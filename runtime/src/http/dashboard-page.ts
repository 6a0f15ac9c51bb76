// The dashboard: one small page, no framework, no CDN (peers may be offline). It reads
// /v1/events for live figures and /v1/jobs for the job list, and acts through /v1 with the
// token given in the page (kept in this browser's localStorage) or in the URL as #token=….
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>peerqueue</title>
<style>
:root{--bg:#0f1419;--panel:#182028;--fg:#e6e6e6;--dim:#8a97a5;--ok:#5cc98b;--bad:#e5646a;--acc:#6aa9ff;font:14px/1.45 system-ui,sans-serif}
body{margin:0;background:var(--bg);color:var(--fg)}header{display:flex;gap:1.5em;align-items:baseline;padding:.8em 1.2em;background:var(--panel)}
h1{font-size:1.2em;margin:0}h2{font-size:1em;margin:.2em 0 .5em;color:var(--dim);font-weight:600}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1em;padding:1em}section{background:var(--panel);border-radius:6px;padding:.8em 1em}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.2em .4em;border-bottom:1px solid #24303b}th{color:var(--dim);font-weight:500}
.num{text-align:right;font-variant-numeric:tabular-nums}.dim{color:var(--dim)}.ok{color:var(--ok)}.bad{color:var(--bad)}
input,select,button{background:#0f1419;color:var(--fg);border:1px solid #33414e;border-radius:4px;padding:.3em .5em}button{cursor:pointer}button:hover{border-color:var(--acc)}
#jobs-panel,#detail{grid-column:1/-1}canvas{width:100%;height:140px}tr.job{cursor:pointer}tr.job:hover{background:#1f2a35}pre{white-space:pre-wrap;word-break:break-all;background:#0f1419;padding:.5em;border-radius:4px;max-height:16em;overflow:auto}
</style></head><body>
<header><h1>peerqueue <span id="queue"></span></h1><span id="leader" class="dim"></span><span id="conn" class="dim">connecting…</span>
<span style="margin-left:auto"><input id="token" type="password" placeholder="token" size="18"> <button id="save-token">use token</button></span></header>
<main>
<section><h2>Trusted peers</h2><table id="members"></table></section>
<section><h2>Jobs by state</h2><table id="states"></table></section>
<section><h2>Throughput and latency</h2><canvas id="chart" width="600" height="140"></canvas><div class="dim" id="rate"></div></section>
<section><h2>Census</h2><table id="census"></table></section>
<section><h2>Workers</h2><table id="workers"></table></section>
<section id="jobs-panel"><h2>Jobs</h2>
<div><input id="search" placeholder="search id, name or error" size="30"> <select id="state"><option value="">any state</option></select> <button id="refresh">search</button> <button id="redrive-all">re-drive all dead</button> <span id="msg" class="dim"></span></div>
<table id="jobs"><thead><tr><th>id</th><th>job</th><th>state</th><th class="num">attempt</th><th>updated</th></tr></thead><tbody></tbody></table></section>
<section id="detail" hidden><h2>Job <span id="detail-id"></span></h2><div id="detail-actions"></div><div id="detail-body"></div></section>
</main>
<script>
const $=s=>document.querySelector(s),esc=t=>String(t??'').replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const fromHash=new URLSearchParams(location.hash.slice(1)).get('token');if(fromHash){localStorage.setItem('pq-token',fromHash);history.replaceState(null,'',location.pathname)}
let token=localStorage.getItem('pq-token')||'';$('#token').value=token;
$('#save-token').onclick=()=>{token=$('#token').value.trim();localStorage.setItem('pq-token',token);connect();loadJobs()};
const STATES=['waiting-children','queued','delayed','leased','retry-wait','completed','dead','cancelled'];for(const s of STATES)$('#state').insertAdjacentHTML('beforeend','<option>'+s+'</option>');
async function api(path,opts={}){const r=await fetch('/v1'+path,{...opts,headers:{'content-type':'application/json',...(token?{authorization:'Bearer '+token}:{})}});const body=await r.json().catch(()=>({}));if(!r.ok)throw new Error((body.error&&body.error.code+': '+body.error.message)||r.statusText);return body}
const say=t=>{$('#msg').textContent=t};const time=ms=>ms?new Date(ms).toLocaleTimeString():'';
const rate=[],lat=[];
function draw(){const c=$('#chart'),g=c.getContext('2d');g.clearRect(0,0,c.width,c.height);const max=Math.max(1,...rate),maxL=Math.max(1,...lat.filter(x=>x!=null));
const line=(data,m,color)=>{g.strokeStyle=color;g.beginPath();data.forEach((v,i)=>{if(v==null)return;const x=i*(c.width/59),y=c.height-4-(v/m)*(c.height-12);i?g.lineTo(x,y):g.moveTo(x,y)});g.stroke()};
line(rate,max,'#5cc98b');line(lat,maxL,'#6aa9ff')}
function render(t){const s=t.status;$('#queue').textContent=s.queue;$('#leader').textContent='leader '+(s.leader?s.leader.slice(-8):'none')+' · term '+s.term+' · commit '+s.commitIndex;
$('#members').innerHTML='<tr><th>peer</th><th>health</th><th class="num">lag</th></tr>'+s.members.map(m=>'<tr><td>'+esc(m.id.slice(-12))+(m.id===s.leader?' ★':'')+'</td><td class="'+(m.healthy===false?'bad':'ok')+'">'+(m.healthy==null?'?':m.healthy?'healthy':'unreachable')+(m.connection==='relay'?' (relay)':'')+'</td><td class="num">'+(m.lag??'?')+'</td></tr>').join('');
$('#states').innerHTML=STATES.map(k=>'<tr><td>'+k+'</td><td class="num" data-state="'+k+'">'+(s.jobs[k]||0)+'</td></tr>').join('');
$('#workers').innerHTML='<tr><th>worker</th><th class="num">running</th></tr>'+s.workers.map(w=>'<tr><td>'+esc(w.id.slice(-20))+'</td><td class="num">'+w.running+'/'+w.capacity+'</td></tr>').join('');
const c=s.census,iv=i=>Math.round(i.estimate)+' <span class="dim">('+Math.floor(i.low)+'–'+(i.high==null?'?':Math.ceil(i.high))+')</span>';
$('#census').innerHTML=!c||!c.sampled?'<tr><td class="dim">no estimate yet</td></tr>':'<tr><td>peers</td><td>'+iv(c.population)+'</td></tr><tr><td>idle</td><td>'+iv(c.idle)+'</td></tr><tr><td>free slots</td><td>'+iv(c.freeSlots)+'</td></tr>';
rate.push(t.completedPerSecond);lat.push(t.p50Ms);if(rate.length>60){rate.shift();lat.shift()}draw();
$('#rate').innerHTML='<span class="ok">'+t.completedPerSecond+' completed/s</span> · <span style="color:#6aa9ff">p50 enqueue→result '+(t.p50Ms==null?'–':t.p50Ms+' ms')+'</span>'}
const rows=new Map();
function jobRow(j){return '<tr class="job" data-id="'+esc(j.id)+'"><td>'+esc(j.id.slice(0,12))+'</td><td>'+esc(j.name)+'</td><td class="'+(j.state==='dead'?'bad':j.state==='completed'?'ok':'')+'">'+esc(j.state)+'</td><td class="num">'+j.attempt+'</td><td>'+time(j.updatedAt??j.at)+'</td></tr>'}
function onJob(j){const q=$('#search').value.trim(),st=$('#state').value;if(st&&j.state!==st)return;if(q&&!(j.id.includes(q)||j.name.includes(q)))return;
const tr=document.querySelector('tr.job[data-id="'+CSS.escape(j.id)+'"]');if(tr)tr.outerHTML=jobRow(j);else $('#jobs tbody').insertAdjacentHTML('afterbegin',jobRow(j));
const body=$('#jobs tbody');while(body.children.length>200)body.lastChild.remove()}
let es;function connect(){es&&es.close();es=new EventSource('/v1/events'+(token?'?token='+encodeURIComponent(token):''));
es.addEventListener('tick',e=>{$('#conn').textContent='live';render(JSON.parse(e.data))});es.addEventListener('job',e=>onJob(JSON.parse(e.data)));es.onerror=()=>{$('#conn').textContent='reconnecting…'}}
async function loadJobs(){try{const p=new URLSearchParams({limit:'200'});if($('#search').value.trim())p.set('search',$('#search').value.trim());if($('#state').value)p.set('state',$('#state').value);
const r=await api('/jobs?'+p);$('#jobs tbody').innerHTML=r.jobs.map(jobRow).join('');say(r.jobs.length+' job(s)')}catch(e){say(e.message)}}
async function showJob(id){try{const j=await api('/jobs/'+encodeURIComponent(id));const rec=(await api('/jobs?limit=1&search='+encodeURIComponent(id))).jobs.find(x=>x.id===id);
$('#detail').hidden=false;$('#detail-id').textContent=id;
$('#detail-actions').innerHTML=(['waiting-children','queued','delayed','leased','retry-wait'].includes(j.state)?'<button data-act="cancel">cancel</button> ':'')+(j.state==='dead'?'<button data-act="redrive">retry (re-drive)</button>':'');
$('#detail-body').innerHTML='<table><tr><td>job</td><td>'+esc(j.name)+'</td></tr><tr><td>state</td><td data-detail-state>'+esc(j.state)+'</td></tr><tr><td>attempt</td><td>'+j.attempt+' of '+j.maxAttempts+'</td></tr><tr><td>worker</td><td>'+esc(j.worker||'–')+'</td></tr>'+
'<tr><td>timeline</td><td>enqueued '+time(j.enqueuedAt)+' · runs at '+time(j.runAt)+' · updated '+time(j.updatedAt)+(j.finishedAt?' · finished '+time(j.finishedAt):'')+'</td></tr></table>'+
'<h2>payload</h2><pre>'+esc(JSON.stringify(rec?rec.payload:'(not in this peer\\'s copy)',null,2))+'</pre>'+(j.error?'<h2>error</h2><pre class="bad">'+esc(JSON.stringify(j.error,null,2))+'</pre>':'')+(j.result!=null?'<h2>result</h2><pre>'+esc(JSON.stringify(j.result,null,2))+'</pre>':'');
$('#detail-actions').onclick=async e=>{const act=e.target.dataset.act;if(!act)return;try{if(act==='cancel')await api('/jobs/'+encodeURIComponent(id)+'/cancel',{method:'POST'});else await api('/redrive',{method:'POST',body:JSON.stringify({ids:[id]})});say(act+': done');showJob(id)}catch(err){say(err.message)}}}catch(e){say(e.message)}}
$('#jobs').onclick=e=>{const tr=e.target.closest('tr.job');if(tr)showJob(tr.dataset.id)};$('#refresh').onclick=loadJobs;$('#search').onkeydown=e=>{if(e.key==='Enter')loadJobs()};$('#state').onchange=loadJobs;
$('#redrive-all').onclick=async()=>{try{const r=await api('/redrive',{method:'POST',body:JSON.stringify({all:true})});say('re-drove '+JSON.stringify(r))}catch(e){say(e.message)}};
connect();loadJobs();
</script></body></html>`

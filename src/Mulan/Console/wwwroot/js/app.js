import { h, replace } from './dom.js';

replace(document.getElementById('app'), h('p', null, 'Mulan'));

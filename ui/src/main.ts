import { mount } from 'svelte';
import App from './App.svelte';
import MiniWindow from './MiniWindow.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// The shell opens the mini player's window on the same page with #mini (src-tauri/src/mini_player.rs).
export default mount(window.location.hash === '#mini' ? MiniWindow : App, { target });
